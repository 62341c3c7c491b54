// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Report: the side-by-side table certvault-bench prints. A cell without a
// value (module not loaded, mechanism not offered, scenario failed) is "n/a".
#ifndef CERTVAULT_BENCH_REPORT_H_
#define CERTVAULT_BENCH_REPORT_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace certvault::bench {

struct Row {
  std::string scenario;
  std::string unit;
  std::optional<double> ours;
  std::optional<double> softhsm;
  std::optional<double> raw;
};

// PrintTable writes the rows with the ratios certvault/raw and
// certvault/SoftHSM2 (plain value ratios: for "us" and "ms" lower is better).
void PrintTable(const std::vector<Row>& rows, std::ostream& out);

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_REPORT_H_
