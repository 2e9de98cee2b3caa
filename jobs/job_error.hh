// SPDX-License-Identifier: Apache-2.0
// jobs/ error model: a job_error carries one of StarRocks' Status codes (what SHOW BACKUP's and
// SHOW RESTORE's Status column prints) and a message for users. Submission errors travel to
// sql/ the same way; sql/ picks the MySQL error number.
#pragma once

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace tv::jobs {


/// StarRocks' backup Status codes (spec §2), in their order.
enum class status_code {
    ok,
    not_found,
    bad_file,
    create_remote_path_failed,
    is_dir,
    is_file,
    timeout,
    bad_connection,
    common_error,
    olap_version_already_merged,
    unsupported,
};

std::string_view status_code_name(status_code code) noexcept;

struct job_error {
    status_code code = status_code::common_error;
    std::string message;

    /// "[OK]" for ok, else "[CODE, msg: message]", as SHOW BACKUP's Status prints it.
    std::string status_text() const;
};

template <class T>
using job_result = boost::system::result<T, job_error>;

job_error make_job_error(status_code code, std::string message);

/// Found by boost::system::result::value() when it holds an error: a programming error, since
/// callers test has_value() first.
[[noreturn]] inline void throw_exception_from_error(const job_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

/// A failure point on a job's sequential path (io/failpoint.hh): armed with "error", the job
/// fails there with the point's name; with "throw", the exception reaches the job's runner.
job_result<void> job_failpoint(std::string_view name);

}  // namespace tv::jobs
