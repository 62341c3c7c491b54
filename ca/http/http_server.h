// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// HttpServer: the CA's HTTP endpoint, on GNU libmicrohttpd (a thread pool
// with epoll). Routes:
//   POST /            application/ocsp-request body (RFC 6960 Appendix A.1)
//   GET  /<base64>    the URL-encoded base64 DER request (Appendix A.1)
//   GET  /crl/full.crl, /crl/delta.crl   the latest cached CRLs (DER);
//        /crl/full-pN.crl, /crl/delta-pN.crl with partitioned CRLs
// Bodies above max_request_bytes get 413 without being read further.
#ifndef CERTVAULT_CA_HTTP_HTTP_SERVER_H_
#define CERTVAULT_CA_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "ca/ocsp/ocsp_responder.h"

namespace certvault::ca {

struct HttpOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
  uint32_t threads = 2;
  size_t max_request_bytes = 16384;
  // ocsp_path: the path of ca.toml's ocsp_url ("/ocsp" for
  // "http://host/ocsp"). A GET request is the rest of the URL after it or
  // after "/" (RFC 6960 A.1: "{url}/{url-encoding of base-64 ...}").
  std::string ocsp_path;
};

// OcspPathOf: the path of an http URL without a trailing "/" ("" for none).
std::string OcspPathOf(const std::string& url);

// CrlSource: the latest CRL DER by name ("full", "delta", "full-p3", ...);
// kNotFound if none.
using CrlSource = std::function<Result<Bytes>(const std::string& kind)>;

class HttpServer {
 public:
  // Start: listening when it returns. kUnavailable if the port is taken.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, OcspResponder& responder,
                                                   CrlSource crls);
  ~HttpServer();  // stops the daemon
  uint16_t port() const { return port_; }

  struct Impl;

 private:
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_HTTP_HTTP_SERVER_H_
