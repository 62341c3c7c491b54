// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/report.h"

#include <cstdio>

namespace certvault::bench {
namespace {

std::string Cell(const std::optional<double>& v) {
  if (!v) return "n/a";
  char buf[32];
  if (*v >= 100) {
    std::snprintf(buf, sizeof(buf), "%.0f", *v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f", *v);
  }
  return buf;
}

std::string Ratio(const std::optional<double>& num, const std::optional<double>& den) {
  if (!num || !den || *den == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3gx", *num / *den);
  return buf;
}

void Line(std::ostream& out, const std::string& a, const std::string& b, const std::string& c,
          const std::string& d, const std::string& e, const std::string& f, const std::string& g) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%-58s %-5s %11s %11s %11s %9s %11s\n", a.c_str(), b.c_str(),
                c.c_str(), d.c_str(), e.c_str(), f.c_str(), g.c_str());
  out << buf;
}

}  // namespace

void PrintTable(const std::vector<Row>& rows, std::ostream& out) {
  Line(out, "scenario", "unit", "certvault", "SoftHSM2", "raw OpenSSL", "cv/raw", "cv/SoftHSM2");
  Line(out, std::string(58, '-'), "-----", "-----------", "-----------", "-----------",
       "---------", "-----------");
  for (const Row& r : rows) {
    Line(out, r.scenario, r.unit, Cell(r.ours), Cell(r.softhsm), Cell(r.raw), Ratio(r.ours, r.raw),
         Ratio(r.ours, r.softhsm));
  }
  out << "(ratios are certvault's value divided by the other column's; for us and ms lower is "
         "better)\n";
}

}  // namespace certvault::bench
