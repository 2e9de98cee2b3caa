// SPDX-License-Identifier: Apache-2.0
// local_store: an object_store over a local directory, written through io/ so that an object
// is either absent or complete and durable: each put goes to a temporary name in the target
// directory, is fdatasynced, renamed over the key, and the directory is fsynced. It never
// retry (a local error does not get better by asking again); every call honours its stop token.
#pragma once

#include "io/durable_file.hh"
#include "io/file.hh"
#include "remote/object_store.hh"

#include <string>

namespace tv::remote {

class local_store final : public object_store {
public:
    /// A store rooted at `root`, an absolute directory. Nothing is touched until the first call;
    /// puts create missing directories (the root included) as they go.
    explicit local_store(std::string root);

    /// Paced, the bytes are written in the pacer's slices, each taken before it goes, so a
    /// stop ends even a large put between two slices.
    io::task<remote_result<void>> put(std::string key, std::span<const std::byte> data, call_options call = {},
                                      body_pacer pacer = {}) override;
    io::task<remote_result<std::string>> get(std::string key, std::optional<byte_range> range = {},
                                             call_options call = {}) override;
    io::task<remote_result<object_info>> head(std::string key, call_options call = {}) override;
    io::task<remote_result<std::vector<object_info>>> list(std::string prefix, call_options call = {}) override;
    io::task<remote_result<void>> remove(std::vector<std::string> keys, call_options call = {}) override;
    io::task<remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                         call_options call = {}, body_pacer pacer = {}) override;
    /// A temporary file beside the key, written with O_DIRECT where the filesystem allows,
    /// fdatasynced, renamed into place and its directory fsynced on complete().
    io::task<remote_result<std::unique_ptr<object_upload>>> begin_upload(std::string key,
                                                                         call_options call = {}) override;
    /// Always not_found: a local upload restarts from its first part (local writes are cheap,
    /// and a half-written temporary file proves nothing about which parts are whole).
    io::task<remote_result<resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                          call_options call = {}) override;
    io::task<remote_result<size_t>> sweep_abandoned_writes(sweep_scope scope, call_options call = {}) override;
    std::string describe() const override { return _root; }

    const std::string& root() const noexcept { return _root; }

private:
    /// A new io::durable_file for `key` (its directory made first). Its temporary name carries
    /// io::temp_marker: list() never shows it, and check_key() refuses keys containing it.
    io::task<remote_result<io::durable_file>> create_temp(std::string key, std::stop_token stop);

    std::string _root;
};

}  // namespace tv::remote
