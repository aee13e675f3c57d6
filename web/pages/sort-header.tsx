/**
 * A sortable column header (control-chain §8 accessibility: no mouse-only tables): a `<button>` inside the `th`, which
 * carries `aria-sort` only while the rows are in its order. Pass `sort` for the column the server's order follows.
 * `client/sortable.ts` sorts the shown rows by each row's `data-sort-<key>` and moves `aria-sort`.
 */
export function SortHeader(props: {
  sortKey: string;
  label: string;
  numeric?: boolean;
  sort?: 'ascending' | 'descending';
}) {
  return (
    <th
      scope="col"
      data-sort-key={props.sortKey}
      {...(props.numeric ? { 'data-sort-type': 'number' } : {})}
      {...(props.sort ? { 'aria-sort': props.sort } : {})}
    >
      <button type="button" class="sort-button">
        {props.label}
      </button>
    </th>
  );
}
