// SPDX-License-Identifier: Apache-2.0
// Status codes and their text.
#include "jobs/job_error.hh"

#include "io/failpoint.hh"

#include <fmt/format.h>

namespace tv::jobs {

std::string_view status_code_name(status_code code) noexcept {
    switch (code) {
    case status_code::ok: return "OK";
    case status_code::not_found: return "NOT_FOUND";
    case status_code::bad_file: return "BAD_FILE";
    case status_code::create_remote_path_failed: return "CREATE_REMOTE_PATH_FAILED";
    case status_code::is_dir: return "IS_DIR";
    case status_code::is_file: return "IS_FILE";
    case status_code::timeout: return "TIMEOUT";
    case status_code::bad_connection: return "BAD_CONNECTION";
    case status_code::common_error: return "COMMON_ERROR";
    case status_code::olap_version_already_merged: return "OLAP_VERSION_ALREADY_MERGED";
    case status_code::unsupported: return "UNSUPPORTED";
    }
    return "COMMON_ERROR";
}

std::string job_error::status_text() const {
    if (code == status_code::ok) {
        return "[OK]";
    }
    return fmt::format("[{}, msg: {}]", status_code_name(code), message);
}

job_error make_job_error(status_code code, std::string message) {
    return job_error{code, std::move(message)};
}

job_result<void> job_failpoint(std::string_view name) {
    if (io::failpoint(name) == io::failpoint_action::error) {
        return make_job_error(status_code::common_error, fmt::format("failpoint {}", name));
    }
    return {};
}

}  // namespace tv::jobs
