import { expect } from 'chai';
import { selectStudents, type Nameable } from '../../../graders/batch/select-students.ts';

const CLASS: Nameable[] = [
  { key: 'canvas:1001', slug: 'ng-alice-1001', names: ['Ng, Alice', 'Ng, Alice'], ids: ['1001', '1001'] },
  { key: 'bob', slug: 'bob', names: ['bob', 'Bob Smith'], ids: ['bob', '2002'] },
  { key: 'bob2', slug: 'bob2', names: ['bob2', 'Robert Smith'], ids: ['bob2', '2002'] },
  { key: 'zoë', slug: 'zoe-1a2b3c', names: ['zoë', 'Zoë  Ångström'], ids: ['zoë', '2009'] },
];

describe('--students: whom a TA names', () => {
  it('matches ids, names (any case and spacing), folder names and report folders', () => {
    expect([...selectStudents(['1001'], CLASS).keys]).to.deep.equal(['canvas:1001']);
    expect([...selectStudents(['bob smith'], CLASS).keys]).to.deep.equal(['bob']);
    expect([...selectStudents(['zoë ångström'], CLASS).keys]).to.deep.equal(['zoë']);
    expect([...selectStudents(['zoe-1a2b3c'], CLASS).keys]).to.deep.equal(['zoë']);
    expect([...selectStudents(['bob2'], CLASS).keys]).to.deep.equal(['bob2']);
  });

  it('a comma-separated list, several values, and a name with a comma kept whole', () => {
    const s = selectStudents(['1001, Robert Smith', '2009'], CLASS);
    expect([...s.keys].sort()).to.deep.equal(['bob2', 'canvas:1001', 'zoë']);
    expect(s.unmatched).to.deep.equal([]);
    expect([...selectStudents(['Ng, Alice'], CLASS).keys]).to.deep.equal(['canvas:1001']);
  });

  it('an id two submissions give names both; a name nobody has is reported, not ignored', () => {
    expect([...selectStudents(['2002'], CLASS).keys].sort()).to.deep.equal(['bob', 'bob2']);
    const s = selectStudents(['1001,Nobody Here, 99'], CLASS);
    expect([...s.keys]).to.deep.equal(['canvas:1001']);
    expect(s.unmatched).to.deep.equal(['Nobody Here', '99']);
  });
});
