/**
 * The browser of the report tests: Debian's Chromium (apt package `chromium`, /usr/bin/chromium)
 * driven by playwright-core, which downloads no browser of its own. One headless browser with a
 * fresh empty profile per suite; every page is opened at 1280 × 900 (a TA's laptop) with probes
 * for what a page must never do: log an error, throw, open a dialog, fetch anything but its own
 * file, violate its Content-Security-Policy, or run a script (an injected payload sets
 * window.__pwned). Nothing here decides a verdict; the test file asserts on what was recorded.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.LABGRADE_CHROMIUM ?? '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 900 };

/** Thrown (never skipped) when no browser can be started: the suite then fails with this advice. */
export function chromiumMissing(detail: string): Error {
  return new Error(
    `cannot start Chromium at ${CHROMIUM} (${detail}): run \`bash scripts/provision-chromium.sh\` as root ` +
      `(installs Debian's chromium with apt-get), or set LABGRADE_CHROMIUM=/path/to/chromium, then run the tests again`,
  );
}

export interface Browser {
  context: BrowserContext;
  version: string;
  close(): Promise<void>;
}

/**
 * Launch Chromium headless, as root-safe and quiet as it can be on a closed network: without
 * these switches it tries to reach Google's update, sync and QUIC endpoints and stalls.
 */
export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw chromiumMissing('no such file');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'labgrade-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw chromiumMissing(e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));
  }
  const version = context.browser()?.version() ?? 'unknown';
  return {
    context,
    version,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything a page did that a report page must never do. */
export interface Trouble {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  /** Requests for anything but a file under the page's own output folder. */
  foreignRequests: string[];
  /** securitypolicyviolation events: markup that got through escaping and was stopped by the CSP. */
  cspViolations: string[];
  /** window.__pwned as set by an injected payload (undefined when nothing ran). */
  pwned: unknown;
}

export interface Visit {
  page: Page;
  /** Collect what happened so far (call after the checks that interact with the page). */
  trouble(): Promise<Trouble>;
}

/**
 * Open `file` (an absolute path) in a new tab with every probe attached. Requests are allowed
 * only for file:// URLs under `root` (the batch's output folder: the page itself and the pages
 * it links to).
 */
export async function visit(b: Browser, file: string, root: string): Promise<Visit> {
  const page = await b.context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  const foreignRequests: string[] = [];
  const rootUrl = `file://${path.resolve(root)}/`;
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(rootUrl)) foreignRequests.push(`${r.method()} ${r.url()}`);
  });
  // tsx (esbuild, keepNames) wraps named functions in the code we evaluate in the page with a
  // __name(fn, "name") helper that exists only in Node: give the page a do-nothing one.
  await page.addInitScript('globalThis.__name = globalThis.__name || ((f) => f);');
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}: ${e.sample}`),
    );
  });
  await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load', timeout: 30_000 });
  return {
    page,
    trouble: async () => {
      const inPage = await page.evaluate(() => {
        const w = window as unknown as { __csp?: string[]; __pwned?: unknown };
        return { csp: w.__csp ?? [], pwned: w.__pwned };
      });
      return {
        consoleErrors,
        pageErrors,
        dialogs,
        foreignRequests,
        cspViolations: inPage.csp,
        pwned: inPage.pwned,
      };
    },
  };
}

/** What a person sees: sizes of every plot, tables, overflow, and elements that could run code. */
export interface Layout {
  title: string;
  h1: string;
  /** Every <svg>: its box on the page and how many of its text labels stick out of it. */
  svgs: Array<{ width: number; height: number; shapes: number; label: string; textsOutside: string[] }>;
  /** Every <table>: its box, and how much wider it is than the box that holds it. */
  tables: Array<{ width: number; height: number; overflowPx: number; rows: number; caption: string }>;
  /** Cells with a long text (over 120 characters) squeezed into a column under 160 px: a few words a line. */
  squeezedCells: string[];
  /** Short words split over two lines of a table cell (a column squeezed below a word's width). */
  brokenWords: string[];
  /** Document width beyond the viewport (horizontal scrolling of the whole page). */
  pageOverflowPx: number;
  /** Elements that run code or load things: script, iframe, object, embed, img, base, link, meta refresh. */
  activeElements: string[];
  /** Elements with an on… attribute, and links with a javascript: URL. */
  handlers: string[];
  /** Links to other pages: their text, the student link of their table row, href as written and resolved. */
  links: Array<{ text: string; row: string; href: string; resolved: string }>;
  /** Fragment links (#id) whose target does not exist. */
  brokenFragments: string[];
}

export async function layout(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const r = (e: Element) => e.getBoundingClientRect();
    const svgs = [...document.querySelectorAll('svg')].map((svg) => {
      const box = r(svg);
      const textsOutside = [...svg.querySelectorAll('text')]
        .filter((t) => {
          const b = r(t);
          if (b.width === 0 && b.height === 0) return false;
          return (
            b.left < box.left - 1 ||
            b.right > box.right + 1 ||
            b.top < box.top - 1 ||
            b.bottom > box.bottom + 1
          );
        })
        .map((t) => t.textContent ?? '');
      return {
        width: box.width,
        height: box.height,
        shapes: svg.querySelectorAll('path, rect, line, circle').length,
        label: svg.querySelector('title')?.textContent ?? svg.getAttribute('aria-label') ?? '',
        textsOutside,
      };
    });
    const tables = [...document.querySelectorAll('table')].map((t) => {
      const box = r(t);
      const holder = t.parentElement!;
      const section = t.closest('section, header');
      return {
        width: box.width,
        height: box.height,
        overflowPx: Math.max(0, Math.round(t.scrollWidth - holder.clientWidth)),
        rows: t.querySelectorAll('tbody tr').length,
        caption: section?.querySelector('h2')?.textContent ?? '',
      };
    });
    const squeezedCells = [...document.querySelectorAll('td')]
      .filter((td) => (td.textContent ?? '').length > 120 && r(td).width < 160)
      .map((td) => `${Math.round(r(td).width)} px: ${(td.textContent ?? '').slice(0, 60)}…`);
    // Short words (up to 16 characters, e.g. "reference") split over two lines of a table cell; a
    // break after a hyphen is a normal line break, so hyphens end words here.
    const brokenWords: string[] = [];
    for (const cell of document.querySelectorAll('td, th')) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const text = n.textContent ?? '';
        for (const m of text.matchAll(/[^\s-]+/g)) {
          if (m[0].length < 2 || m[0].length > 16) continue;
          const range = document.createRange();
          range.setStart(n, m.index);
          range.setEnd(n, m.index + m[0].length);
          const tops = new Set([...range.getClientRects()].map((q) => Math.round(q.top)));
          if (tops.size > 1) brokenWords.push(`"${m[0]}" in a ${Math.round(r(cell).width)} px column`);
        }
      }
    }
    const active = [
      ...document.querySelectorAll(
        'script, iframe, frame, object, embed, img, base, link, form, meta[http-equiv="refresh" i]',
      ),
    ].map((e) => e.outerHTML.slice(0, 120));
    const handlers: string[] = [];
    for (const e of document.querySelectorAll('*')) {
      for (const a of e.attributes) {
        const v = a.value.trim().toLowerCase();
        if (
          a.name.toLowerCase().startsWith('on') ||
          ((a.name === 'href' || a.name === 'src') && v.startsWith('javascript:'))
        )
          handlers.push(`<${e.tagName.toLowerCase()} ${a.name}="${a.value.slice(0, 60)}">`);
      }
    }
    const anchors = [...document.querySelectorAll('a[href]')] as HTMLAnchorElement[];
    const brokenFragments = anchors
      .map((a) => a.getAttribute('href') ?? '')
      .filter((h) => h.startsWith('#') && !document.getElementById(decodeURIComponent(h.slice(1))));
    return {
      title: document.title,
      h1: document.querySelector('h1')?.textContent ?? '',
      svgs,
      tables,
      squeezedCells,
      brokenWords,
      pageOverflowPx: Math.max(0, document.documentElement.scrollWidth - window.innerWidth),
      activeElements: active,
      handlers,
      links: anchors
        .filter((a) => !(a.getAttribute('href') ?? '').startsWith('#'))
        .map((a) => ({
          text: a.textContent ?? '',
          row: a.closest('tr')?.querySelector('td a')?.textContent ?? '',
          href: a.getAttribute('href') ?? '',
          resolved: a.href,
        })),
      brokenFragments,
    };
  });
}
