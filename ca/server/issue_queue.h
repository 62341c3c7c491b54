// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// IssueQueue: issuance for concurrent server requests with group commit.
// Request threads Submit one CSR each and wait; one worker thread takes
// everything queued (up to `max_batch`), groups it by profile and runs the
// Issuer on each group: signatures in parallel on `threads` token sessions,
// one database transaction per group. A request returns only once its
// certificate is committed (or refused: then nothing was stored).
// SubmitAsync is the same without a waiting thread: the HTTP server suspends
// the connection and the callback resumes it, so that any number of
// requests can wait for one group commit on a few threads.
// Thread-safe. The Issuer is used by the worker thread alone.
#ifndef CERTVAULT_CA_SERVER_ISSUE_QUEUE_H_
#define CERTVAULT_CA_SERVER_ISSUE_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ca/issuance/issuer.h"

namespace certvault::ca {

class IssueQueue {
 public:
  // IssueQueue: the arguments are those of Issuer (borrowed; they outlive the queue).
  IssueQueue(const CaConfig& config, std::string ca_name, CaKey& key, X509* ca_cert, CertDb& db, std::string actor,
             uint32_t threads, size_t max_batch = 256);
  ~IssueQueue();  // finishes what was submitted, then stops
  // Submit: blocks until `item` is issued or refused. The outcome's status
  // says why a CSR was refused; an error Result is a database failure.
  Result<IssueOutcome> Submit(IssueItem item, const std::string& profile);
  // SubmitAsync: `done` is called exactly once with what Submit would have
  // returned: on the worker thread once the certificate is committed (or
  // refused), or before SubmitAsync returns if the queue is stopping. `done`
  // must not call back into this queue's Submit.
  using Done = std::function<void(Result<IssueOutcome>)>;
  void SubmitAsync(IssueItem item, const std::string& profile, Done done);

  // Setup: what the queue issues with: the configuration (profiles, policy,
  // limits) and an issuing key generation.
  struct Setup {
    std::shared_ptr<const CaConfig> config;  // kept by the queue while it is used
    std::string ca_name;
    CaKey* key = nullptr;     // borrowed: outlives the queue
    X509* ca_cert = nullptr;  // borrowed: outlives the queue
  };
  // Use: the batches the worker takes from now on, including requests
  // already queued, are issued with `setup` (a reload of the profiles on
  // SIGHUP, a key rollover); the batch being issued finishes with the setup
  // it started with. Swapped on the worker thread between batches, so an
  // Issuer is never replaced under its signing threads.
  void Use(Setup setup);

 private:
  struct Job {
    IssueItem item;
    std::string profile;
    Done done;
    Status error;
    IssueOutcome outcome;
  };
  void Run();
  void RunBatch(std::deque<std::shared_ptr<Job>>& batch);
  void Apply(Setup setup);  // on the worker thread

  CertDb& db_;
  std::string actor_;
  uint32_t threads_;
  std::shared_ptr<const CaConfig> config_;  // what issuer_ borrows, when set by Use
  std::unique_ptr<Issuer> issuer_;          // the worker thread's alone
  std::optional<Setup> next_;               // guarded by mu_
  size_t max_batch_;
  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::thread worker_;
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_ISSUE_QUEUE_H_
