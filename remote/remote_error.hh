// SPDX-License-Identifier: Apache-2.0
// remote_error and remote_result<T>: how repository configuration and object stores report
// failure. Messages face users (CREATE REPOSITORY, BACKUP) and never carry secret values.
#pragma once

#include "io/error.hh"

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace tv::remote {

enum class remote_errc {
    bad_config,          // a location or property the repository cannot use
    not_supported,       // a scheme or feature this build does not offer (hdfs://, S3 for now)
    not_found,           // the object (or the repository's __repo_info) is not there
    range_not_satisfiable,
    no_space,            // ENOSPC / EDQUOT: the store is full
    permission_denied,   // EACCES / EPERM / EROFS
    io_error,            // anything else from the store
};

struct remote_error {
    remote_errc code;
    std::string message;
    /// Worth trying again (a 5xx, throttling, a reset or a timeout that the store's own
    /// retries did not get past); never for configuration, permission or not-found errors.
    bool retryable = false;
    /// How many times the store sent the request (its own retries included).
    int attempts = 1;
    /// Set when an endpoint (the store's, STS's, IMDS's) did not answer as that service: the
    /// message is then only "could not reach endpoint E: connection failed", E being this, and
    /// layers above add no detail of their own (the detail is in the server log).
    std::string unreachable_endpoint;
};

template <class T>
using remote_result = boost::system::result<T, remote_error>;

inline remote_error make_remote_error(remote_errc code, std::string message) {
    return remote_error{code, std::move(message)};
}

/// A file-system error as a remote_error: the errno picks the code, `what` says what was being
/// done ("write __repo_info under /backups").
remote_error from_error_code(const std::error_code& ec, std::string_view what);

/// Found by boost::system::result::value() when it holds an error: a programming error.
[[noreturn]] inline void throw_exception_from_error(const remote_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

}  // namespace tv::remote
