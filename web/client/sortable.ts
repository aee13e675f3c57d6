/**
 * Sortable tables (control-chain §8 accessibility: no mouse-only tables), for the headers `pages/sort-header.tsx`
 * renders: the jobs list and the audit log.
 */

type SortDir = 'ascending' | 'descending';

/**
 * Sortable headers of the tables inside `container` (control-chain §8 accessibility): a click on the button of a
 * `th[data-sort-key]` orders the shown rows by their `data-sort-<key>` (numbers when the `th` says
 * `data-sort-type="number"`), ascending first and reversed on a second click, and puts `aria-sort` on that `th` only.
 * The listener sits on the container, so rows the server re-renders into it keep working; `reapply` restores the
 * chosen order after such a swap (the server's own order is the one its `th` marks with `aria-sort`).
 */
export function sortableRows(container: HTMLElement): { reapply(): void } {
  let chosen: { key: string; dir: SortDir } | null = null;
  const apply = (key: string, dir: SortDir) => {
    const th = container.querySelector<HTMLTableCellElement>(`th[data-sort-key="${CSS.escape(key)}"]`);
    const table = th?.closest('table');
    const body = table?.tBodies[0];
    if (!th || !table || !body) return;
    const numeric = th.dataset.sortType === 'number';
    const attr = `sort${key.charAt(0).toUpperCase()}${key.slice(1)}`;
    const cellOf = (row: HTMLTableRowElement) => row.dataset[attr] ?? '';
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellOf(a);
      const y = cellOf(b);
      const c = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
      return dir === 'ascending' ? c : -c;
    });
    body.append(...rows);
    for (const h of table.querySelectorAll<HTMLTableCellElement>('th[data-sort-key]')) {
      if (h === th) h.setAttribute('aria-sort', dir);
      else h.removeAttribute('aria-sort');
    }
  };
  container.addEventListener('click', (ev) => {
    const button = (ev.target as Element | null)?.closest('th[data-sort-key] > button');
    const th = button?.parentElement;
    const key = th?.dataset.sortKey;
    if (!th || !key) return;
    const dir: SortDir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    chosen = { key, dir };
    apply(key, dir);
  });
  return {
    reapply() {
      if (chosen) apply(chosen.key, chosen.dir);
    },
  };
}
