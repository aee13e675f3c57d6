/**
 * The SLO snapshot (control-chain §10) as the console shows it: overall state, each plane's state and the rules that
 * fired (icon + text, never colour alone). `compact` (dashboard) lists a plane's first finding only; the System page
 * shows every finding plus the control plane's inputs (queue, WebSocket counters, supervisors).
 */
import type { SloFinding, SloSnapshot } from '#shared/domain/control/slo.ts';
import { StateLabel } from './state-label.tsx';
import { Time } from './time-text.tsx';

function Findings(props: { findings: SloFinding[]; compact: boolean }) {
  if (props.findings.length === 0) return <span class="muted">no rule fired</span>;
  const shown = props.compact ? props.findings.slice(0, 1) : props.findings;
  return (
    <ul class="findings">
      {shown.map((f) => (
        <li>
          <StateLabel state={f.state} /> <code>{f.rule}</code>: {f.message}
        </li>
      ))}
      {props.compact && props.findings.length > 1 ? (
        <li class="muted">and {props.findings.length - 1} more on the System page</li>
      ) : null}
    </ul>
  );
}

export function SloSummary(props: { slo: SloSnapshot | null; error?: string | null; compact?: boolean; id?: string }) {
  const { slo } = props;
  const compact = props.compact ?? false;
  if (!slo) return <p id={props.id}>SLO snapshot unavailable: {props.error ?? 'no answer'}</p>;
  const planes = [
    ['Data plane', slo.data_plane.state, slo.data_plane.findings],
    ['Training plane', slo.training_plane.state, slo.training_plane.findings],
    ['Control plane', slo.control_plane.state, slo.control_plane.findings],
  ] as const;
  return (
    <div id={props.id}>
      <p>
        Overall: <StateLabel state={slo.overall} />{' '}
        <span class="muted">
          (<Time iso={slo.generated_at} />)
        </span>
      </p>
      <table class="slo">
        <caption class="visually-hidden">SLO state per plane and the rules that fired</caption>
        <thead>
          <tr>
            <th scope="col">Plane</th>
            <th scope="col">State</th>
            <th scope="col">Findings</th>
          </tr>
        </thead>
        <tbody>
          {planes.map(([name, state, findings]) => (
            <tr>
              <th scope="row">{name}</th>
              <td>
                <StateLabel state={state} />
              </td>
              <td>
                <Findings findings={[...findings]} compact={compact} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
