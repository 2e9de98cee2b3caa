// SPDX-License-Identifier: Apache-2.0
// Reading untrusted JSON (repository objects): parsed with a nesting limit, fields typed,
// absent-or-wrong-type as nullopt, never an exception.
#pragma once

#include "jobs/job_error.hh"

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tv::jobs {

/// A non-negative integer, or nullopt.
inline std::optional<uint64_t> unsigned_of(const boost::json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_uint64()) {
        return v->get_uint64();
    }
    if (v->is_int64() && v->get_int64() >= 0) {
        return static_cast<uint64_t>(v->get_int64());
    }
    return std::nullopt;
}

/// A string, or nullopt.
inline std::optional<std::string> string_of(const boost::json::value* v) {
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

/// Appends `"name":[...]` to `out`, each element serialized on its own from `element(i)`, so that
/// no document of the whole list exists at once: how the job files that list every file of a
/// snapshot (manifest, cut, restore plan) are written, at about 2 KiB of heap per file less.
template <typename Element>
void append_json_list(std::string& out, std::string_view name, size_t count, Element&& element) {
    out += '"';
    out += name;  // one of our own keys: nothing to escape
    out += "\":[";
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += ',';
        }
        out += boost::json::serialize(element(i));
    }
    out += ']';
}

/// `head` serialized with the list `name` (append_json_list) as its last member; `list_bytes` is
/// what the list's elements are expected to take, if known, so the text is reserved once.
template <typename Element>
std::string serialize_with_list(const boost::json::object& head, std::string_view name, size_t count,
                                Element&& element, size_t list_bytes = 0) {
    std::string out = boost::json::serialize(head);
    out.reserve(out.size() + name.size() + 8 + list_bytes);
    out.pop_back();  // the closing brace
    if (!head.empty()) {
        out += ',';
    }
    append_json_list(out, name, count, std::forward<Element>(element));
    out += '}';
    return out;
}

/// Parses `text` into a document held in large blocks of its own, all freed with it. For the
/// large documents jobs read (a manifest or a cut of 20,000 files is over 100,000 small values),
/// which the general heap would keep as resident memory after they are freed.
boost::json::value parse_document(std::string_view text, std::error_code& ec,
                                  const boost::json::parse_options& options = {});

/// Parses `text` as a JSON object nested at most `max_depth` deep. A failure is BAD_FILE:
/// "<what> is not valid: not JSON (...)" or "... not a JSON object".
job_result<boost::json::object> parse_untrusted_object(std::string_view text, size_t max_depth,
                                                       std::string_view what);

}  // namespace tv::jobs
