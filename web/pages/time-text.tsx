/** A control-plane instant (UTC ISO-8601) as readable text inside a machine-readable `<time>`. */
export function Time(props: { iso: string | null | undefined }) {
  return props.iso ? <time datetime={props.iso}>{props.iso.replace('T', ' ').replace('Z', ' UTC')}</time> : <>—</>;
}
