import { expect } from 'chai';
import { LabgradeError } from '../../../harness/errors.ts';
import {
  defined,
  parseCpuacctStat,
  parseCpuList,
  parseCpuMax,
  parseFlatKeyed,
  parseLimit,
  parseSingleNumber,
  V1_PAGE_COUNTER_MAX_4K,
} from '../../../harness/cgroup/parse.ts';

describe('cgroup/parse', () => {
  describe('parseSingleNumber', () => {
    it('reads "123\\n" and keeps 0 as 0', () => {
      expect(parseSingleNumber('123\n')).to.equal(123);
      expect(parseSingleNumber('0\n')).to.equal(0);
      expect(parseSingleNumber('  72865868 \n')).to.equal(72865868);
    });
    it('keeps an absent file absent', () => {
      expect(parseSingleNumber(undefined)).to.equal(undefined);
    });
    it('throws on text that is not an integer, naming what it got', () => {
      expect(() => parseSingleNumber('max\n')).to.throw(LabgradeError, /expected an integer, got "max\\n"/);
      expect(() => parseSingleNumber('')).to.throw(LabgradeError);
      expect(() => parseSingleNumber('1.5')).to.throw(LabgradeError);
    });
    it('refuses values beyond 2^53 instead of rounding them', () => {
      expect(() => parseSingleNumber('9007199254740993')).to.throw(LabgradeError, /below 2\^53/);
    });
  });

  describe('parseLimit', () => {
    it('keeps absent, max and 0 apart', () => {
      expect(parseLimit(undefined)).to.equal(undefined);
      expect(parseLimit('max\n')).to.equal('max');
      expect(parseLimit('0\n')).to.equal(0);
    });
    it('reads v1 -1 (cpu.cfs_quota_us) as max', () => {
      expect(parseLimit('-1\n')).to.equal('max');
    });
    it('reads the v1 page-counter ceiling as max (4 KiB and 64 KiB pages) and anything ≥ 2^62', () => {
      expect(parseLimit(`${V1_PAGE_COUNTER_MAX_4K}\n`)).to.equal('max');
      expect(parseLimit('9223372036854710272\n')).to.equal('max'); // arm64 64 KiB pages
      expect(parseLimit('4611686018427387904\n')).to.equal('max'); // exactly 2^62
    });
    it('reads real limits as numbers', () => {
      expect(parseLimit('134217728\n')).to.equal(134217728);
      expect(parseLimit('50000\n')).to.equal(50000);
    });
    it('throws on other negatives, garbage, and values between 2^53 and 2^62', () => {
      expect(() => parseLimit('-2\n')).to.throw(LabgradeError, /non-negative/);
      expect(() => parseLimit('unlimited\n')).to.throw(LabgradeError, /got "unlimited\\n"/);
      expect(() => parseLimit('4611686018427387903\n')).to.throw(LabgradeError, /below 2\^53/);
    });
  });

  describe('parseCpuMax', () => {
    it('reads "50000 100000"', () => {
      expect(parseCpuMax('50000 100000\n')).to.deep.equal({ quotaUs: 50000, periodUs: 100000 });
    });
    it('reads "max 100000" as an unlimited quota with its period', () => {
      expect(parseCpuMax('max 100000\n')).to.deep.equal({ quotaUs: 'max', periodUs: 100000 });
    });
    it('keeps absent absent and throws on malformed text', () => {
      expect(parseCpuMax(undefined)).to.equal(undefined);
      expect(() => parseCpuMax('50000\n')).to.throw(LabgradeError, /<quota\|max> <period>/);
      expect(() => parseCpuMax('50000 max\n')).to.throw(LabgradeError);
    });
  });

  describe('parseFlatKeyed', () => {
    it('reads "key value" lines (v2 memory.events)', () => {
      expect(parseFlatKeyed('low 0\nhigh 0\nmax 57\noom 1\noom_kill 1\noom_group_kill 0\n')).to.deep.equal({
        low: 0,
        high: 0,
        max: 57,
        oom: 1,
        oom_kill: 1,
        oom_group_kill: 0,
      });
    });
    it('reads v1 memory.oom_control and skips blank lines', () => {
      expect(parseFlatKeyed('oom_kill_disable 0\nunder_oom 0\n\noom_kill 1\n')).to.deep.equal({
        oom_kill_disable: 0,
        under_oom: 0,
        oom_kill: 1,
      });
    });
    it('keeps dotted keys (v2 cpu.stat core_sched.force_idle_usec)', () => {
      expect(parseFlatKeyed('usage_usec 10\ncore_sched.force_idle_usec 0\n')).to.deep.equal({
        usage_usec: 10,
        'core_sched.force_idle_usec': 0,
      });
    });
    it('keeps absent absent, reads an empty file as no keys, throws on malformed lines', () => {
      expect(parseFlatKeyed(undefined)).to.equal(undefined);
      expect(parseFlatKeyed('')).to.deep.equal({});
      expect(() => parseFlatKeyed('total=3 N0=3\n')).to.throw(LabgradeError, /"key value" lines/);
      expect(() => parseFlatKeyed('a 1 2\n')).to.throw(LabgradeError);
    });
    it('cannot be tricked into touching the prototype', () => {
      const kv = parseFlatKeyed('__proto__ 1\n');
      expect(Object.getPrototypeOf(kv)).to.equal(Object.prototype);
      expect(Object.keys(kv ?? {})).to.deep.equal(['__proto__']);
    });
  });

  describe('parseCpuacctStat', () => {
    it('turns USER_HZ ticks into ns (100 ticks per second)', () => {
      expect(parseCpuacctStat('user 111\nsystem 12\n')).to.deep.equal({
        userNs: 1_110_000_000,
        systemNs: 120_000_000,
      });
      expect(parseCpuacctStat('user 0\nsystem 0\n')).to.deep.equal({ userNs: 0, systemNs: 0 });
    });
    it('accepts another USER_HZ', () => {
      expect(parseCpuacctStat('user 250\nsystem 0\n', 250)).to.deep.equal({ userNs: 1e9, systemNs: 0 });
    });
    it('keeps absent absent and throws when a line is missing', () => {
      expect(parseCpuacctStat(undefined)).to.equal(undefined);
      expect(() => parseCpuacctStat('user 3\n')).to.throw(LabgradeError, /"user" and "system"/);
    });
  });

  describe('parseCpuList', () => {
    it('keeps the list as the kernel prints it', () => {
      expect(parseCpuList('0-1\n')).to.equal('0-1');
      expect(parseCpuList('0,2-3\n')).to.equal('0,2-3');
    });
    it('keeps an empty v2 cpuset.cpus ("inherit") apart from an absent file', () => {
      expect(parseCpuList('\n')).to.equal('');
      expect(parseCpuList(undefined)).to.equal(undefined);
    });
    it('throws on text that is not a cpu list', () => {
      expect(() => parseCpuList('all\n')).to.throw(LabgradeError);
    });
  });

  describe('defined', () => {
    it('drops undefined but keeps 0, empty strings and max', () => {
      expect(defined({ a: undefined, b: 0, c: '', d: 'max' as const })).to.deep.equal({
        b: 0,
        c: '',
        d: 'max',
      });
    });
  });
});
