// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca issue: one CSR (--csr FILE, "-" = stdin) or a batch (--batch
// DIR of CSR files, or --batch - for concatenated PEM CSRs on stdin).
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "ca/cli/cli.h"
#include "ca/issuance/issuer.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

constexpr size_t kMaxBatchInput = size_t{1} << 30;

Result<std::vector<IssueItem>> ReadDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return NotFoundError("cannot read directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(".csr") || n.ends_with(".pem") || n.ends_with(".der")) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<IssueItem> items;
  for (const std::string& n : names) {
    CV_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(dir + "/" + n));
    items.push_back({n, std::move(b)});
  }
  return items;
}

// SplitPemStream: each "-----BEGIN ...-----" .. "-----END ...-----" block.
Result<std::vector<IssueItem>> SplitPemStream(const std::string& text) {
  std::vector<IssueItem> items;
  size_t pos = 0;
  while ((pos = text.find("-----BEGIN", pos)) != std::string::npos) {
    size_t end = text.find("-----END", pos);
    if (end == std::string::npos) return InvalidArgumentError("truncated PEM block on stdin");
    size_t stop = text.find("-----", end + 8);
    if (stop == std::string::npos) return InvalidArgumentError("truncated PEM block on stdin");
    stop += 5;
    std::string block = text.substr(pos, stop - pos);
    items.push_back({"stdin#" + std::to_string(items.size() + 1), Bytes(block.begin(), block.end())});
    pos = stop;
  }
  if (items.empty()) return InvalidArgumentError("no PEM CSR on stdin");
  return items;
}

Result<std::vector<IssueItem>> ReadItems(const Args& args) {
  if (args.Has("csr")) {
    std::string path = args.Get("csr");
    if (path == "-") {
      std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      return std::vector<IssueItem>{{"stdin", Bytes(in.begin(), in.end())}};
    }
    CV_ASSIGN_OR_RETURN(Bytes b, ReadFileBytes(path));
    return std::vector<IssueItem>{{path, std::move(b)}};
  }
  std::string batch = args.Get("batch");
  if (batch != "-") return ReadDir(batch);
  std::string in;
  char buf[65536];
  while (size_t n = std::fread(buf, 1, sizeof(buf), stdin)) {
    in.append(buf, n);
    if (in.size() > kMaxBatchInput) return ResourceExhaustedError("batch input on stdin exceeds 1 GiB");
  }
  return SplitPemStream(in);
}

std::string BaseName(const std::string& source) {
  std::string n = source.substr(source.find_last_of('/') + 1);
  size_t dot = n.find_last_of('.');
  return dot == std::string::npos ? n : n.substr(0, dot);
}

// CheckOutputs: every output path is writable, before anything is signed
// (a certificate committed but not written would be issued again on retry).
Status CheckOutputs(const Args& args, const std::vector<IssueItem>& items) {
  if (args.Has("out")) return CheckWritable(args.Get("out"));
  if (!args.Has("out-dir")) return OkStatus();
  for (const IssueItem& item : items) {
    CV_RETURN_IF_ERROR(CheckWritable(args.Get("out-dir") + "/" + BaseName(item.source) + ".pem"));
  }
  return OkStatus();
}

// WriteOutputs: only certificates; a refused CSR leaves no file behind and
// --out is not touched when nothing was issued.
Status WriteOutputs(const Args& args, const std::vector<IssueOutcome>& outs) {
  std::string all;
  for (const IssueOutcome& o : outs) {
    if (!o.status.ok()) continue;
    CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", o.der));
    if (args.Has("out-dir")) {
      CV_RETURN_IF_ERROR(WriteFile(args.Get("out-dir") + "/" + BaseName(o.source) + ".pem", pem));
    } else {
      all += pem;
    }
  }
  if (args.Has("out")) return all.empty() ? OkStatus() : WriteFile(args.Get("out"), all);
  if (!args.Has("out-dir")) std::fwrite(all.data(), 1, all.size(), stdout);
  return OkStatus();
}

// Report: one line per CSR on stderr ("issued SERIAL SOURCE" or the
// refusal), printed as soon as a chunk is committed, before any file is
// written: what is in the database is always named, even if a later chunk
// or the output fails.
size_t Report(std::span<const IssueOutcome> outs) {
  size_t refused = 0;
  for (const IssueOutcome& o : outs) {
    if (o.status.ok()) {
      std::fprintf(stderr, "issued %s %s\n", o.serial.c_str(), o.source.c_str());
      continue;
    }
    ++refused;
    std::fprintf(stderr, "certvault-ca: refused %s: %s\n", o.source.c_str(), std::string(o.status.message()).c_str());
  }
  return refused;
}

}  // namespace

int CmdIssue(Args& args) {
  if (args.Has("csr") == args.Has("batch")) return Usage("issue: give exactly one of --csr or --batch");
  if (args.Has("out") && args.Has("out-dir")) return Usage("issue: give at most one of --out or --out-dir");
  auto items = ReadItems(args);
  if (!items.ok()) return Fail(items.status());
  Status writable = CheckOutputs(args, *items);
  if (!writable.ok()) return Fail(writable);
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  auto cert = (*inst)->Cert(CaRole::kIssuing);
  if (!cert.ok()) return Fail(cert.status());
  auto key = (*inst)->Key(CaRole::kIssuing);
  if (!key.ok()) return Fail(key.status());
  IssuerOptions opts;
  opts.verify = (*inst)->config().verify_issued;
  opts.chunk = std::stoul(args.Get("chunk", std::to_string(opts.chunk)));  // range-checked by the parser
  opts.threads = static_cast<uint32_t>(std::stoul(args.Get("threads", std::to_string((*inst)->config().sign_threads))));
  size_t refused = 0;
  opts.on_commit = [&refused](std::span<const IssueOutcome> chunk) { refused += Report(chunk); };
  Issuer issuer((*inst)->config(), (*inst)->Name(CaRole::kIssuing), **key, *cert, (*inst)->db(), ActorOf(args), opts);
  auto outs = issuer.Issue(*items, args.Get("profile"));
  if (!outs.ok()) return Fail(outs.status());
  Status written = WriteOutputs(args, *outs);
  if (!written.ok()) {
    return Fail(Status(written.code(), std::string(written.message()) +
                                           " (the certificates above are issued and stored: 'certvault-ca show "
                                           "SERIAL --pem' prints them)"));
  }
  if (outs->size() > 1 || args.Has("batch")) {
    std::fprintf(stderr, "issued %zu, refused %zu\n", outs->size() - refused, refused);
  }
  if (refused == 0) return 0;
  return outs->size() == 1 ? 1 : 3;
}

}  // namespace certvault::ca::cli
