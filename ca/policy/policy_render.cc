// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Markdown and HTML renderings of a PolicyReport. Markdown table cells have
// "|" and line breaks escaped; HTML escapes every value (HtmlEscape).
#include "ca/policy/policy_report.h"

namespace certvault::ca {
namespace {

std::string MdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Td(const std::string& s) { return "<td>" + HtmlEscape(s) + "</td>"; }

}  // namespace

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderMarkdown(const PolicyReport& r) {
  std::string out = "# " + MdCell(r.title) + "\n\n## Checklist (NIST SP 800-130 / CRYPTREC framework items)\n\n";
  out += "| Item | Requirement | Configured value | Enforced by | Status |\n|---|---|---|---|---|\n";
  for (const ReportItem& i : r.items) {
    out += "| " + MdCell(i.id) + " | " + MdCell(i.title) + " | " + MdCell(i.value) + " | " + MdCell(i.enforcement) +
           " | " + MdCell(i.status) + " |\n";
  }
  out += "\n## Component inventory\n\n| Component | Version |\n|---|---|\n";
  for (const auto& [name, version] : r.inventory) out += "| " + MdCell(name) + " | " + MdCell(version) + " |\n";
  out += "\n## CP/CPS skeleton (RFC 3647)\n";
  for (const auto& [section, text] : r.cps) out += "\n### " + MdCell(section) + "\n\n" + MdCell(text) + "\n";
  return out;
}

std::string RenderHtml(const PolicyReport& r) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(r.title) +
                    "</title></head><body>\n<h1>" + HtmlEscape(r.title) + "</h1>\n";
  out +=
      "<h2>Checklist (NIST SP 800-130 / CRYPTREC framework items)</h2>\n<table>\n<tr><th>Item</th><th>Requirement</th>"
      "<th>Configured value</th><th>Enforced by</th><th>Status</th></tr>\n";
  for (const ReportItem& i : r.items) {
    out += "<tr>" + Td(i.id) + Td(i.title) + Td(i.value) + Td(i.enforcement) + Td(i.status) + "</tr>\n";
  }
  out += "</table>\n<h2>Component inventory</h2>\n<table>\n<tr><th>Component</th><th>Version</th></tr>\n";
  for (const auto& [name, version] : r.inventory) out += "<tr>" + Td(name) + Td(version) + "</tr>\n";
  out += "</table>\n<h2>CP/CPS skeleton (RFC 3647)</h2>\n";
  for (const auto& [section, text] : r.cps) {
    out += "<h3>" + HtmlEscape(section) + "</h3>\n<p>" + HtmlEscape(text) + "</p>\n";
  }
  return out + "</body></html>\n";
}

}  // namespace certvault::ca
