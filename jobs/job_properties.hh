// SPDX-License-Identifier: Apache-2.0
// Values of BACKUP's and RESTORE's PROPERTIES as StarRocks reads them: whole integers, and
// booleans spelt true/false in any case.
#pragma once

#include "jobs/job_error.hh"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tv::jobs {

/// The whole text as a decimal int64, or nothing.
std::optional<int64_t> parse_int(std::string_view text);

/// "true" / "false" in any case, or nothing.
std::optional<bool> parse_bool(std::string_view text);

/// `timeout`: whole seconds above 0 (StarRocks insists on 600 or more; we take any positive
/// number, so that a short deadline can be tested and a small job bounded tightly).
job_result<int64_t> parse_timeout(std::string_view value);

/// BACKUP's `ttl` (StarRocks 4.2): `<n> <unit>` with a whole n > 0 and SECOND, MINUTE, HOUR or
/// DAY (or their plurals) in any case, as seconds; empty: 0, the snapshot never expires.
job_result<int64_t> parse_ttl(std::string_view value);

/// `backup_timestamp` (RESTORE, VERIFY SNAPSHOT): SHOW SNAPSHOT's yyyy-MM-dd-HH-mm-ss-SSS.
job_result<std::string> parse_backup_timestamp(std::string_view value);

/// A job's own rate limit (`max_upload_speed_kbps`, `max_download_speed_kbps`): KB/s, 0 or more.
job_result<int64_t> parse_speed_kbps(std::string_view key, std::string_view value);

}  // namespace tv::jobs
