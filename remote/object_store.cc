// SPDX-License-Identifier: Apache-2.0
// Key validation shared by every object_store, and errno -> remote_error.
#include "remote/object_store.hh"

#include "io/durable_file.hh"

#include <fmt/format.h>

namespace tv::remote {

std::optional<std::string> check_key(std::string_view key) {
    if (key.empty()) {
        return "an object key must not be empty";
    }
    if (key.front() == '/') {
        return fmt::format("object key '{}' must not start with '/'", key);
    }
    if (key.find('\0') != key.npos) {
        return "an object key must not contain NUL";
    }
    if (key.find(io::temp_marker) != key.npos) {
        return fmt::format("object key '{}' contains '{}', which marks temporary files", key, io::temp_marker);
    }
    size_t start = 0;
    while (start <= key.size()) {
        size_t end = key.find('/', start);
        std::string_view part = key.substr(start, end == key.npos ? key.npos : end - start);
        if (part.empty() || part == "." || part == "..") {
            return fmt::format("object key '{}' has an empty, '.' or '..' component", key);
        }
        if (end == key.npos) {
            break;
        }
        start = end + 1;
    }
    return std::nullopt;
}

remote_error from_error_code(const std::error_code& ec, std::string_view what) {
    remote_errc code = remote_errc::io_error;
    if (ec == std::errc::no_such_file_or_directory) {
        code = remote_errc::not_found;
    } else if (ec == std::errc::no_space_on_device || ec.value() == EDQUOT) {
        code = remote_errc::no_space;
    } else if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted ||
               ec == std::errc::read_only_file_system) {
        code = remote_errc::permission_denied;
    }
    return make_remote_error(code, io::describe(ec, what));
}

}  // namespace tv::remote
