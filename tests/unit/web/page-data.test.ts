import { describe, expect, it } from 'vitest';
import { safeJson } from '#web/pages/page-data.tsx';

describe('page data block', () => {
  it('cannot be closed by a value containing </script>', () => {
    // Act
    const text = safeJson({ note: '</script><script>alert(1)</script>', amp: 'a&b' });

    // Assess
    expect(text).not.toContain('<');
    expect(text).not.toContain('>');
    expect(JSON.parse(text)).toEqual({ note: '</script><script>alert(1)</script>', amp: 'a&b' });
  });
});
