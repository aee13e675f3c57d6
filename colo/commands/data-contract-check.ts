/**
 * `ghtrader data contract-check` (data-chain §6.7), synthetic mode: build the deterministic fixture of `rows` ticks
 * and check the data contract on it (CI runs `--rows 96 --json`). The caller prints the report and exits 1 unless
 * `ok`. Checking a stored day (`--symbol S --day D`) is not part of this mode.
 */
import {
  type ContractReport,
  DEFAULT_CONTRACT_THRESHOLDS,
  evaluateDataContract,
  syntheticContractFrame,
} from '#shared/domain/data/validation/contract-check.ts';

export interface ContractCheckOptions {
  /** Synthetic rows (default 64). */
  rows?: number;
  minRows?: number;
  maxCoreNullRate?: number;
  maxL5NullRate?: number;
}

export async function contractCheckCommand(opts: ContractCheckOptions = {}): Promise<ContractReport> {
  const rows = opts.rows ?? 64;
  return evaluateDataContract(
    syntheticContractFrame(rows),
    {
      minRows: opts.minRows ?? DEFAULT_CONTRACT_THRESHOLDS.minRows,
      maxCoreNullRate: opts.maxCoreNullRate ?? DEFAULT_CONTRACT_THRESHOLDS.maxCoreNullRate,
      maxL5NullRate: opts.maxL5NullRate ?? DEFAULT_CONTRACT_THRESHOLDS.maxL5NullRate,
    },
    'synthetic',
  );
}
