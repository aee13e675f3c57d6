/** The §1 status payload of the data endpoints (`status-contract.ts`): each branch of the section mapping. */
import { describe, expect, it } from 'vitest';
import { withSectionStatus, withSectionsStatus } from '#shared/services/data/status-contract.ts';

const AT = '2026-11-22T01:00:00.000Z';

describe('withSectionStatus', () => {
  it('maps ok, none and error, moving the error object to error_detail', () => {
    // Act
    const ok = withSectionStatus({ status: 'ok' as const, data: { n: 3 } }, (b) => `n=${b.data.n}`, AT);
    const none = withSectionStatus({ status: 'none' as const, message: 'not run yet' }, () => 'x', AT);
    const bad = withSectionStatus(
      { status: 'error' as const, error: { code: 'report_invalid', message: 'bad JSON' } },
      () => 'x',
      AT,
    );

    // Assess
    expect(ok).toEqual({
      status: 'ok',
      data: { n: 3 },
      state: 'ok',
      text: 'n=3',
      error: '',
      updated_at: AT,
      stale: false,
    });
    expect(none).toMatchObject({ state: 'empty', text: 'not run yet', error: '' });
    expect(bad).toEqual({
      status: 'error',
      state: 'error',
      text: 'unreadable: bad JSON',
      error: 'report_invalid',
      error_detail: { code: 'report_invalid', message: 'bad JSON' },
      updated_at: AT,
      stale: false,
    });
  });
});

describe('withSectionsStatus', () => {
  it('is error when one section is unreadable, empty when none has data, else ok', () => {
    // Prepare
    const ok = { status: 'ok' as const };
    const none = { status: 'none' as const, message: 'no report' };
    const bad = { status: 'error' as const, error: { code: 'io', message: 'EACCES' } };

    // Act
    const broken = withSectionsStatus({ limit: 5 }, { a: ok, b: bad }, 'fine', AT);
    const empty = withSectionsStatus({ limit: 5 }, { a: none, b: none }, 'fine', AT);
    const fine = withSectionsStatus({ limit: 5 }, { a: ok, b: none }, 'fine', AT);

    // Assess
    expect(broken).toMatchObject({ limit: 5, state: 'error', error: 'io', text: 'unreadable: b (EACCES)' });
    expect(empty).toMatchObject({ state: 'empty', error: '', text: 'nothing stored yet' });
    expect(fine).toMatchObject({ state: 'ok', error: '', text: 'fine', updated_at: AT, stale: false });
  });
});
