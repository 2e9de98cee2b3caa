// SPDX-License-Identifier: Apache-2.0
// Parsing untrusted JSON objects with a nesting limit.
#include "jobs/json_fields.hh"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/storage_ptr.hpp>
#include <fmt/format.h>

namespace tv::jobs {

boost::json::value parse_document(std::string_view text, std::error_code& ec,
                                  const boost::json::parse_options& options) {
    return boost::json::parse(text, ec, boost::json::make_shared_resource<boost::json::monotonic_resource>(),
                              options);
}

job_result<boost::json::object> parse_untrusted_object(std::string_view text, size_t max_depth,
                                                       std::string_view what) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    std::error_code ec;
    boost::json::value doc = parse_document(text, ec, options);
    if (ec) {
        return make_job_error(status_code::bad_file, fmt::format("{} is not valid: not JSON ({})", what, ec.message()));
    }
    if (!doc.is_object()) {
        return make_job_error(status_code::bad_file, fmt::format("{} is not valid: not a JSON object", what));
    }
    return std::move(doc.get_object());
}

}  // namespace tv::jobs
