// SPDX-License-Identifier: Apache-2.0
// Parsing untrusted JSON objects with a nesting limit.
#include "jobs/json_fields.hh"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

namespace tv::jobs {

job_result<boost::json::object> parse_untrusted_object(std::string_view text, size_t max_depth,
                                                       std::string_view what) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    std::error_code ec;
    boost::json::value doc = boost::json::parse(text, ec, {}, options);
    if (ec) {
        return make_job_error(status_code::bad_file, fmt::format("{} is not valid: not JSON ({})", what, ec.message()));
    }
    if (!doc.is_object()) {
        return make_job_error(status_code::bad_file, fmt::format("{} is not valid: not a JSON object", what));
    }
    return std::move(doc.get_object());
}

}  // namespace tv::jobs
