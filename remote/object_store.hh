// SPDX-License-Identifier: Apache-2.0
// object_store: what a repository needs from where it keeps objects. A local directory and an
// S3 bucket implement the same calls with the same semantics (S3's), so that the layers above
// never ask which one they have.
#pragma once

#include "io/task.hh"
#include "remote/body_pacer.hh"
#include "remote/remote_error.hh"
#include "remote/retry.hh"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stop_token>
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

/// What a caller gives every call besides its data: its stop token (a stop ends the call, the
/// store's retries and waits included, and the call fails as cancelled) and, when it counts
/// retries (transfer progress), an observer. A stop token alone converts to it, so a caller
/// with nothing else passes its token where call_options is asked for.
struct call_options {
    std::stop_token stop;
    retry_observer on_retry;
    /// A read's progress: told the bytes of the store's answer that have come so far, as they
    /// come (each attempt counts from 0). Stores with no wire to watch (a local directory) may
    /// never call it.
    std::function<void(uint64_t)> on_answer_bytes;
    /// An upload's body has been handed to the connection (each attempt): what is left is the
    /// store's answer. Stores with no wire (a local directory) may never call it.
    std::function<void()> on_body_sent;

    call_options() = default;
    call_options(std::stop_token stop_token) : stop(std::move(stop_token)) {}  // implicit: see above
    call_options(std::stop_token stop_token, retry_observer observer)
        : stop(std::move(stop_token)), on_retry(std::move(observer)) {}
};

/// A part of an object being uploaded: S3's part number (from 1) and ETag.
struct uploaded_part {
    int number = 0;
    std::string etag;
    uint64_t size = 0;
};

/// One object written in parts of one size (the last may be shorter), in any order and
/// concurrently from the loop that began it; nothing is visible under the key until complete()
/// succeeds, and abort() leaves nothing behind. S3: a multipart upload; a local directory: a
/// temporary file renamed into place.
class object_upload {
public:
    virtual ~object_upload() = default;

    /// Stores part `number` (from 1), whose first byte is at `offset` of the object. `data` must
    /// stay valid until the call completes.
    virtual io::task<remote_result<uploaded_part>> write_part(int number, uint64_t offset,
                                                              std::span<const std::byte> data,
                                                              call_options call = {}, body_pacer pacer = {}) = 0;
    /// Makes the object visible from `parts` (every part, in number order).
    virtual io::task<remote_result<void>> complete(std::vector<uploaded_part> parts, call_options call = {}) = 0;
    /// Removes what was stored. A caller cleaning up after a stop passes a token that is not
    /// stopped, or the abort itself is cancelled and the parts stay.
    virtual io::task<remote_result<void>> abort(call_options call = {}) = 0;
    /// What resume_upload() needs to continue after a restart ("" when the store cannot resume).
    virtual const std::string& upload_id() const = 0;
};

/// Which abandoned writes a sweep may remove. A multipart upload has no owner the store can
/// name, so what is not ours to remove is told by what we know: the uploads our own running jobs
/// will continue, and the age below which an upload may be another server's live one.
struct sweep_scope {
    std::string prefix;          ///< only writes to keys under this prefix (a repository's root + '/')
    std::set<std::string> keep;  ///< upload ids that a running job of this server continues
    int64_t grace_ms = 3'600'000;  ///< writes begun less than this long ago stay
    int64_t now_ms = 0;            ///< the time the age is measured at (ms since the epoch)
    /// Writes under `shared_prefix` belong to other servers unless under `own_prefix`, and stay
    /// whatever their age: a server may upload one file for hours across a slow link (their own
    /// sweeps, or the bucket's lifecycle rule, remove them). Empty: no such split.
    std::string shared_prefix;
    std::string own_prefix;
};

/// An upload continued from its id, with the parts the store already holds.
struct resumed_upload {
    std::unique_ptr<object_upload> upload;
    std::vector<uploaded_part> parts;
};

/// Keys are '/'-separated paths relative to the store's root, as S3 keys under a prefix. Every
/// call validates them: no empty key, no leading '/', no empty, "." or ".." component.
///
/// Semantics (S3's): put replaces the whole object atomically (a reader sees the old object or
/// the new one, never a part); a failed put leaves no object; remove of a missing key succeeds;
/// list returns every key that starts with `prefix` (a string prefix, not a directory), in
/// byte order, with nested keys included.
///
/// Every call takes the caller's call_options (its stop token) after its data arguments. A
/// stopped call ends within about a second, a single large put included, and leaves what a
/// failed call leaves: nothing new under the key.
///
/// Coroutine parameters are by value (see docs/architecture.md); `data` must stay valid until
/// the put completes, which it does when the caller awaits it in the same expression.
class object_store {
public:
    virtual ~object_store() = default;

    /// `pacer`, when given, paces the bytes as they go out (rate limits).
    virtual io::task<remote_result<void>> put(std::string key, std::span<const std::byte> data,
                                              call_options call = {}, body_pacer pacer = {}) = 0;
    virtual io::task<remote_result<std::string>> get(std::string key, std::optional<byte_range> range = {},
                                                     call_options call = {}) = 0;
    /// remote_errc::not_found when there is no such object.
    virtual io::task<remote_result<object_info>> head(std::string key, call_options call = {}) = 0;
    virtual io::task<remote_result<std::vector<object_info>>> list(std::string prefix, call_options call = {}) = 0;
    virtual io::task<remote_result<void>> remove(std::vector<std::string> keys, call_options call = {}) = 0;

    /// Reads bytes [offset, offset + into.size()) into `into` and yields how many there were
    /// (fewer at the end of the object). `into` must stay valid until the call completes.
    /// `pacer`, when given, paces the bytes as they come in: each slice is taken once it has
    /// arrived, so a capped link carries the limit however the store bunches its answers.
    virtual io::task<remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 call_options call = {}, body_pacer pacer = {}) = 0;

    /// Begins a part-wise upload of `key`.
    virtual io::task<remote_result<std::unique_ptr<object_upload>>> begin_upload(std::string key,
                                                                                 call_options call = {}) = 0;
    /// Continues the upload `upload_id` of `key`; remote_errc::not_found when the store no
    /// longer has it (or cannot resume), and the caller begins a new one.
    virtual io::task<remote_result<resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                                  call_options call = {}) = 0;

    /// Removes what writers that died mid-write left behind, and yields how many: a local
    /// directory's temporary files (this host's dead processes', and other hosts' untouched for
    /// an hour; `scope` is not needed there), S3's multipart uploads under `scope.prefix` that
    /// are neither kept nor younger than the grace period.
    virtual io::task<remote_result<size_t>> sweep_abandoned_writes(sweep_scope scope, call_options call = {}) {
        (void)scope, (void)call;
        co_return size_t{0};
    }

    /// Where the store is, for messages and logs: never a secret.
    virtual std::string describe() const = 0;
    /// The endpoint a remote store is reached at, as the user wrote it; empty for a local
    /// directory. A remote answer the caller cannot use (an object that is not what this server
    /// wrote) is reported as "could not reach endpoint <this>: connection failed", like any
    /// other answer that is not the store's.
    virtual std::string endpoint() const { return {}; }
};

/// Whether `key` is a valid object key (see above); the message says why not.
std::optional<std::string> check_key(std::string_view key);

}  // namespace tv::remote
