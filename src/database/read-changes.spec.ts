import { parseChange } from './read-changes';

describe('parseChange (the payloads of the read-change triggers)', () => {
  it('reads each kind', () => {
    expect(parseChange('s:1,22')).toEqual({ kind: 'submission', submissionIds: ['1', '22'] });
    expect(parseChange('d:3')).toEqual({ kind: 'details', submissionIds: ['3'] });
    expect(parseChange('r:3:1-250,4:7-7')).toEqual({
      kind: 'rows',
      spans: [
        { submissionId: '3', first: 1, last: 250 },
        { submissionId: '4', first: 7, last: 7 },
      ],
    });
    expect(parseChange('t')).toEqual({ kind: 'tokens' });
    expect(parseChange('u')).toEqual({ kind: 'everything' });
    expect(parseChange('*')).toEqual({ kind: 'everything' });
  });

  it('takes anything it does not recognise as everything', () => {
    for (const payload of ['', 's:', 'd:1,', 'r:3', 'r:3:1', 'r:3:-1-2', 'r:3:1-2,', 'x:1', 's:1;drop']) {
      expect(parseChange(payload)).toEqual({ kind: 'everything' });
    }
  });
});
