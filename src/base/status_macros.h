// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The only two control-flow macros of certvault (shaped like Abseil's).
#ifndef CERTVAULT_BASE_STATUS_MACROS_H_
#define CERTVAULT_BASE_STATUS_MACROS_H_

#include <utility>

#include "src/base/result.h"
#include "src/base/status.h"

#define CV_STATUS_CONCAT_INNER_(a, b) a##b
#define CV_STATUS_CONCAT_(a, b) CV_STATUS_CONCAT_INNER_(a, b)

// CV_RETURN_IF_ERROR(expr): evaluates `expr` (a Status) and returns it if not OK.
// The temporary's name is unique per expansion, so nesting (a lambda inside
// the expression that uses the macro too) does not shadow.
#define CV_RETURN_IF_ERROR(expr) CV_RETURN_IF_ERROR_IMPL_(CV_STATUS_CONCAT_(cv_status_, __COUNTER__), expr)
#define CV_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                         \
    ::certvault::Status status = (expr);       \
    if (!status.ok()) return status;           \
  } while (0)

// CV_ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a Result<T>); on error
// returns its Status, else assigns (or declares) `lhs` from the moved value.
#define CV_ASSIGN_OR_RETURN(lhs, expr) \
  CV_ASSIGN_OR_RETURN_IMPL_(CV_STATUS_CONCAT_(cv_result_, __COUNTER__), lhs, expr)

#define CV_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return std::move(result).status(); \
  lhs = std::move(result).value()

#endif  // CERTVAULT_BASE_STATUS_MACROS_H_
