// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Result<T>: a value or a non-OK Status, with the absl::StatusOr surface
// (ok(), status(), value(), operator*, operator->).
#ifndef CERTVAULT_BASE_RESULT_H_
#define CERTVAULT_BASE_RESULT_H_

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "src/base/status.h"

namespace certvault {

template <typename T>
class [[nodiscard]] Result {
 public:
  // Result(Status): REQUIRES: !status.ok(). An OK status without a value is
  // turned into an internal error rather than aborting (a loaded module never aborts).
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "Result constructed from OK status");
  }
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename U,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, T> &&
                                        !std::is_same_v<std::decay_t<U>, Status> &&
                                        !std::is_same_v<std::decay_t<U>, Result<T>>>>
  Result(U&& value) : value_(std::in_place, std::forward<U>(value)) {}  // NOLINT

  Result(Result&&) noexcept = default;
  Result& operator=(Result&&) noexcept = default;
  Result(const Result&) = default;
  Result& operator=(const Result&) = default;

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // value(): REQUIRES: ok(). Callers check ok() (or use CV_ASSIGN_OR_RETURN).
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace certvault

#endif  // CERTVAULT_BASE_RESULT_H_
