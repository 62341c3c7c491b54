// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ThreadSet: the threads of a server's connections, joined rather than
// detached, so that each thread's exit (when OpenSSL frees its per-thread
// state) completes before the server goes away. A thread says Finished() as
// the last thing it does under its owner's bookkeeping; Reap() joins those.
// Thread-safe.
#ifndef CERTVAULT_BASE_THREAD_SET_H_
#define CERTVAULT_BASE_THREAD_SET_H_

#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace certvault {

class ThreadSet {
 public:
  ThreadSet() = default;
  ThreadSet(const ThreadSet&) = delete;
  ThreadSet& operator=(const ThreadSet&) = delete;
  // ~ThreadSet: joins every thread still held.
  ~ThreadSet() { Reap(/*detach_running=*/false, /*all=*/true); }

  // Start: runs `fn` on a new thread held by the set. `fn` must call
  // Finished() once, as its last use of the set.
  void Start(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);  // the thread cannot finish before it is held
    std::thread t(std::move(fn));
    threads_.emplace(t.get_id(), std::move(t));
  }
  // Finished: called by a thread of the set when it is about to return.
  void Finished() {
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back(std::this_thread::get_id());
  }
  // Reap: joins the threads that said Finished(); `detach_running`: lets
  // the others run to their end on their own (a shutdown grace period ran
  // out); `all`: joins the others too.
  void Reap(bool detach_running = false, bool all = false) {
    std::vector<std::thread> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (std::thread::id id : finished_) {
        auto it = threads_.find(id);
        if (it == threads_.end()) continue;
        done.push_back(std::move(it->second));
        threads_.erase(it);
      }
      finished_.clear();
      for (auto& [id, t] : threads_) {
        if (detach_running) t.detach();
        if (all && !detach_running) done.push_back(std::move(t));
      }
      if (detach_running || all) threads_.clear();
    }
    for (std::thread& t : done) t.join();
  }

 private:
  std::mutex mu_;
  std::map<std::thread::id, std::thread> threads_;  // guarded by mu_
  std::vector<std::thread::id> finished_;           // guarded by mu_
};

}  // namespace certvault

#endif  // CERTVAULT_BASE_THREAD_SET_H_
