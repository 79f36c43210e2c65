/** The upload routes' base64 check: linear, so a 12 MB upload never overflows a regex engine's stack. */
import { isBase64 } from '../../client/schemas';

test('accepts base64 with 0, 1 or 2 padding characters', () => {
  for (const s of ['QUJD', 'QUI=', 'QQ==', Buffer.from('any bytes \u00ff').toString('base64')])
    expect(isBase64(s)).toBe(true);
});

test('refuses what is not base64: a data: prefix, line breaks, url-safe characters, padding inside, empty', () => {
  for (const s of ['', '=', '==', 'data:image/png;base64,QUJD', 'QUJD\nQUJD', 'QU-_', 'QU=D', 'QUJD==='])
    expect(isBase64(s)).toBe(false);
});

test('a 13 MB string in one pass (the regex it replaces could throw "Maximum call stack size exceeded")', () => {
  const big = Buffer.alloc(Math.ceil(9.6 * 1024 * 1024)).toString('base64');
  expect(isBase64(big)).toBe(true);
  expect(isBase64(`${big}!`)).toBe(false);
});
