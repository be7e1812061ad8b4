import { expect } from 'chai';
import { parseShell, type ShellScript } from '../../../graders/dockerfile/shell.ts';

const words = (s: ShellScript): string[][] => s.commands.map((c) => c.words.map((w) => w.text));

describe('parseShell', () => {
  it('splits && || ; | & and newlines into simple commands', () => {
    const s = parseShell('apt-get update && apt-get install -y a || echo failed; ls | wc -l & true\nfalse');
    expect(words(s)).to.deep.equal([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'a'],
      ['echo', 'failed'],
      ['ls'],
      ['wc', '-l'],
      ['true'],
      ['false'],
    ]);
    expect(s.commands.map((c) => c.after)).to.deep.equal([null, '&&', '||', ';', '|', '&', ';']);
    expect(s.commands[4]?.pipedFrom).to.equal('ls');
    expect(s.problems).to.deep.equal([]);
  });

  it('removes quotes and backslashes the way sh does', () => {
    const s = parseShell(`echo 'a b' "c \\"d\\" \\$e" f\\ g "" $'h\\ti'`);
    expect(words(s)).to.deep.equal([['echo', 'a b', 'c "d" $e', 'f g', '', 'h\ti']]);
  });

  it('expands variables from the lookup and splits unquoted values into words', () => {
    const lookup = (n: string): string | undefined => ({ PKGS: 'stress-ng  sysbench', EMPTY: '' })[n];
    const s = parseShell('apt-get install $PKGS "$PKGS" ${PKGS} x$EMPTY $EMPTY', { lookup });
    expect(words(s)).to.deep.equal([
      ['apt-get', 'install', 'stress-ng', 'sysbench', 'stress-ng  sysbench', 'stress-ng', 'sysbench', 'x'],
    ]);
  });

  it('keeps unknown variables and command substitutions as written, and lists them', () => {
    const s = parseShell('apt-get install $NOPE "$(cat list.txt)" `uname -r` ${A:-def} ${B:+alt} ${#C}');
    const ws = s.commands[0]?.words ?? [];
    expect(ws.map((w) => w.text)).to.deep.equal([
      'apt-get',
      'install',
      '$NOPE',
      '$(cat list.txt)',
      '`uname -r`',
      'def',
      '${#C}',
    ]);
    expect(ws.map((w) => w.unresolved)).to.deep.equal([
      [],
      [],
      [{ text: '$NOPE', name: 'NOPE' }],
      [{ text: '$(cat list.txt)', name: null }],
      [{ text: '`uname -r`', name: null }],
      [],
      [{ text: '${#C}', name: null }],
    ]);
  });

  it('applies assignments to later commands, and prefix assignments only to their command', () => {
    const s = parseShell(
      'P="a b"; export Q=c; DEBIAN_FRONTEND=noninteractive apt-get install $P $Q; unset P; echo $P.',
      {},
    );
    expect(words(s)).to.deep.equal([
      ['export', 'Q=c'],
      ['apt-get', 'install', 'a', 'b', 'c'],
      ['unset', 'P'],
      ['echo', '.'],
    ]);
    expect(s.commands[1]?.assignments).to.deep.equal([{ name: 'DEBIAN_FRONTEND', value: 'noninteractive' }]);
  });

  it('reads through if/for/while/case and subshells', () => {
    const s = parseShell(
      'if [ -f x ]; then (cd /tmp && make); fi; for p in a b; do apt-get install -y $p; done; case $X in y) echo y;; *) echo n;; esac',
    );
    expect(words(s)).to.deep.equal([
      ['[', '-f', 'x', ']'],
      ['cd', '/tmp'],
      ['make'],
      ['apt-get', 'install', '-y', 'a', 'b'],
      ['echo', 'y'],
      ['echo', 'n'],
    ]);
  });

  it('drops redirections, file descriptor numbers and comments', () => {
    const s = parseShell('apt-get update >/dev/null 2>&1 # quiet\necho hi &>> log < in');
    expect(words(s)).to.deep.equal([
      ['apt-get', 'update'],
      ['echo', 'hi'],
    ]);
  });

  it('reads here-documents and attaches them to their command', () => {
    const s = parseShell(
      'cat <<-"EOF" > /etc/x && bash <<X\n\tline $1\n\tEOF\napt-get install -y a\nX\necho after',
      { firstLine: 10 },
    );
    expect(words(s)).to.deep.equal([['cat'], ['bash'], ['echo', 'after']]);
    expect(s.commands[0]?.heredocs).to.deep.equal([
      { delimiter: 'EOF', body: 'line $1', line: 11, quoted: true, stripTabs: true, terminated: true },
    ]);
    expect(s.commands[1]?.heredocs).to.deep.equal([
      {
        delimiter: 'X',
        body: 'apt-get install -y a',
        line: 13,
        quoted: false,
        stripTabs: false,
        terminated: true,
      },
    ]);
    expect(s.commands[2]?.line).to.equal(15);
  });

  it('reports unterminated quotes and here-documents without throwing', () => {
    expect(parseShell('echo "abc').problems).to.deep.equal([
      { line: 1, message: 'unterminated double quote' },
    ]);
    expect(parseShell("echo 'abc").problems).to.deep.equal([
      { line: 1, message: 'unterminated single quote' },
    ]);
    expect(parseShell('cat <<EOF\nabc').problems).to.deep.equal([
      { line: 2, message: 'here-document "EOF" is not closed' },
    ]);
  });

  it('maps every word to its Dockerfile line', () => {
    const src = 'apt-get install -y a b';
    const lineOf = [...src].map((_, i) => (i < 18 ? 3 : i < 20 ? 4 : 5));
    const s = parseShell(src, { lineOf });
    expect(s.commands[0]?.words.map((w) => w.line)).to.deep.equal([3, 3, 3, 4, 5]);
  });
});
