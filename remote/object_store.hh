// SPDX-License-Identifier: Apache-2.0
// object_store: what a repository needs from where it keeps objects. A local directory and an
// S3 bucket implement the same calls with the same semantics (S3's), so that the layers above
// never ask which one they have.
#pragma once

#include "io/task.hh"
#include "remote/remote_error.hh"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tv::remote {

struct object_info {
    std::string key;
    uint64_t size = 0;
    int64_t modified_ms = 0;  // milliseconds since the epoch
};

/// Bytes [offset, offset + length) of an object; no length: to the end. A range past the end
/// is shortened to the end; one starting past it is remote_errc::range_not_satisfiable.
struct byte_range {
    uint64_t offset = 0;
    std::optional<uint64_t> length;
};

/// Keys are '/'-separated paths relative to the store's root, as S3 keys under a prefix. Every
/// call validates them: no empty key, no leading '/', no empty, "." or ".." component.
///
/// Semantics (S3's): put replaces the whole object atomically (a reader sees the old object or
/// the new one, never a part); a failed put leaves no object; remove of a missing key succeeds;
/// list returns every key that starts with `prefix` (a string prefix, not a directory), in
/// byte order, with nested keys included.
///
/// Coroutine parameters are by value (see docs/architecture.md); `data` must stay valid until
/// the put completes, which it does when the caller awaits it in the same expression.
class object_store {
public:
    virtual ~object_store() = default;

    virtual io::task<remote_result<void>> put(std::string key, std::span<const std::byte> data) = 0;
    virtual io::task<remote_result<std::string>> get(std::string key, std::optional<byte_range> range = {}) = 0;
    /// remote_errc::not_found when there is no such object.
    virtual io::task<remote_result<object_info>> head(std::string key) = 0;
    virtual io::task<remote_result<std::vector<object_info>>> list(std::string prefix) = 0;
    virtual io::task<remote_result<void>> remove(std::vector<std::string> keys) = 0;

    /// Where the store is, for messages and logs: never a secret.
    virtual std::string describe() const = 0;
};

/// Whether `key` is a valid object key (see above); the message says why not.
std::optional<std::string> check_key(std::string_view key);

}  // namespace tv::remote
