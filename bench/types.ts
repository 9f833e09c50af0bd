/** One measured figure of a benchmark run. */
export interface BenchResult {
  /** What was measured, e.g. "append 100 B records, no fsync". */
  name: string;
  value: number;
  /** e.g. "records/s", "MB/s", "µs". */
  unit: string;
  /** This figure as a ratio of a baseline measured in the same run. */
  ratio?: { of: string; value: number };
  /** The goal, when the issue names one: met when value (or ratio) reaches it. */
  goal?: { value: number; of: 'value' | 'ratio'; direction?: 'min' | 'max' };
  note?: string;
}
