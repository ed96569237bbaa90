/** What the simulator counts of the requests it answers (for tests and benchmarks). */
export interface SimStats {
  requests: number;
  inFlightByNode: Map<string, number>;
  maxInFlightByNode: Map<string, number>;
  inFlightByStorage: Map<string, number>;
  maxInFlightByStorage: Map<string, number>;
}
