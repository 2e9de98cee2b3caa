// SPDX-License-Identifier: Apache-2.0
// A local repository behind a store of its own, for tests that watch or change some of a
// store's calls (counting requests, holding one back) while the rest reach real files.
#pragma once

#include "remote/local_store.hh"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tv::testing {

/// A local repository behind a store of its own, posing as a remote one when given an endpoint:
/// every call goes to `inner`, for tests to override the calls they watch.
struct local_store_proxy : remote::object_store {
    local_store_proxy(std::string root, std::string endpoint)
        : inner(std::move(root)), shown_endpoint(std::move(endpoint)) {}

    io::task<remote::remote_result<std::unique_ptr<remote::object_upload>>> begin_upload(
        std::string key, remote::call_options call) override {
        co_return co_await inner.begin_upload(std::move(key), std::move(call));
    }
    io::task<remote::remote_result<void>> put(std::string key, std::span<const std::byte> data,
                                              remote::call_options call, remote::body_pacer pacer) override {
        co_return co_await inner.put(std::move(key), data, std::move(call), std::move(pacer));
    }
    io::task<remote::remote_result<std::string>> get(std::string key, std::optional<remote::byte_range> range,
                                                     remote::call_options call) override {
        co_return co_await inner.get(std::move(key), range, std::move(call));
    }
    io::task<remote::remote_result<remote::object_info>> head(std::string key, remote::call_options call) override {
        co_return co_await inner.head(std::move(key), std::move(call));
    }
    io::task<remote::remote_result<std::vector<remote::object_info>>> list(std::string prefix,
                                                                           remote::call_options call) override {
        co_return co_await inner.list(std::move(prefix), std::move(call));
    }
    io::task<remote::remote_result<void>> remove(std::vector<std::string> keys, remote::call_options call) override {
        co_return co_await inner.remove(std::move(keys), std::move(call));
    }
    io::task<remote::remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 remote::call_options call, remote::body_pacer pacer) override {
        co_return co_await inner.read(std::move(key), offset, into, std::move(call), std::move(pacer));
    }
    io::task<remote::remote_result<remote::resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                                          remote::call_options call) override {
        co_return co_await inner.resume_upload(std::move(key), std::move(upload_id), std::move(call));
    }
    std::string describe() const override { return inner.describe(); }
    std::string endpoint() const override { return shown_endpoint; }

    remote::local_store inner;
    std::string shown_endpoint;
};

}  // namespace tv::testing
