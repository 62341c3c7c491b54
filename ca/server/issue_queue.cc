// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/issue_queue.h"

#include <future>
#include <map>
#include <vector>

namespace certvault::ca {

IssueQueue::IssueQueue(const CaConfig& config, std::string ca_name, CaKey& key, X509* ca_cert, CertDb& db,
                       std::string actor, uint32_t threads, size_t max_batch)
    : db_(db),
      actor_(std::move(actor)),
      threads_(threads),
      issuer_(std::make_unique<Issuer>(config, std::move(ca_name), key, ca_cert, db, actor_,
                                       IssuerOptions{threads, max_batch, config.verify_issued, nullptr})),
      max_batch_(max_batch),
      worker_([this] { Run(); }) {}

void IssueQueue::Use(Setup setup) {
  std::lock_guard<std::mutex> lock(mu_);
  next_ = std::move(setup);
}

void IssueQueue::Apply(Setup setup) {
  const CaConfig& config = *setup.config;
  auto fresh = std::make_unique<Issuer>(config, std::move(setup.ca_name), *setup.key, setup.ca_cert, db_, actor_,
                                        IssuerOptions{threads_, max_batch_, config.verify_issued, nullptr});
  issuer_ = std::move(fresh);  // the old Issuer goes while the configuration it borrowed is still held
  config_ = std::move(setup.config);
}

IssueQueue::~IssueQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  worker_.join();
}

Result<IssueOutcome> IssueQueue::Submit(IssueItem item, const std::string& profile) {
  std::promise<Result<IssueOutcome>> promise;
  std::future<Result<IssueOutcome>> result = promise.get_future();
  SubmitAsync(std::move(item), profile, [&promise](Result<IssueOutcome> out) { promise.set_value(std::move(out)); });
  return result.get();
}

void IssueQueue::SubmitAsync(IssueItem item, const std::string& profile, Done done) {
  auto job = std::make_shared<Job>();
  job->item = std::move(item);
  job->profile = profile;
  job->done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_) {
      queue_.push_back(job);
      work_.notify_one();
      return;
    }
  }
  job->done(UnavailableError("the server is stopping"));
}

void IssueQueue::Run() {
  for (;;) {
    std::deque<std::shared_ptr<Job>> batch;
    std::optional<Setup> next;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      next.swap(next_);
    }
    if (next.has_value()) Apply(std::move(*next));
    RunBatch(batch);  // returns once the batch is committed
    for (auto& job : batch) {
      if (job->error.ok()) {
        job->done(std::move(job->outcome));
      } else {
        job->done(job->error);
      }
    }
  }
}

void IssueQueue::RunBatch(std::deque<std::shared_ptr<Job>>& batch) {
  std::map<std::string, std::vector<Job*>> by_profile;
  for (auto& job : batch) by_profile[job->profile].push_back(job.get());
  for (auto& [profile, jobs] : by_profile) {
    std::vector<IssueItem> items;
    items.reserve(jobs.size());
    for (Job* j : jobs) items.push_back(std::move(j->item));
    Result<std::vector<IssueOutcome>> outs = issuer_->Issue(items, profile);
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!outs.ok()) {
        jobs[i]->error = outs.status();
      } else {
        jobs[i]->outcome = std::move((*outs)[i]);
      }
    }
  }
}

}  // namespace certvault::ca
