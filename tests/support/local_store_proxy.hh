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
struct local_store_proxy : tv::remote::object_store {
    local_store_proxy(std::string root, std::string endpoint)
        : inner(std::move(root)), shown_endpoint(std::move(endpoint)) {}

    tv::io::task<tv::remote::remote_result<std::unique_ptr<tv::remote::object_upload>>> begin_upload(
        std::string key, tv::remote::call_options call) override {
        co_return co_await inner.begin_upload(std::move(key), std::move(call));
    }
    tv::io::task<tv::remote::remote_result<void>> put(std::string key, std::span<const std::byte> data,
                                              tv::remote::call_options call, tv::remote::body_pacer pacer) override {
        co_return co_await inner.put(std::move(key), data, std::move(call), std::move(pacer));
    }
    tv::io::task<tv::remote::remote_result<std::string>> get(std::string key, std::optional<tv::remote::byte_range> range,
                                                     tv::remote::call_options call) override {
        co_return co_await inner.get(std::move(key), range, std::move(call));
    }
    tv::io::task<tv::remote::remote_result<tv::remote::object_info>> head(std::string key, tv::remote::call_options call) override {
        co_return co_await inner.head(std::move(key), std::move(call));
    }
    tv::io::task<tv::remote::remote_result<std::vector<tv::remote::object_info>>> list(std::string prefix,
                                                                           tv::remote::call_options call) override {
        co_return co_await inner.list(std::move(prefix), std::move(call));
    }
    tv::io::task<tv::remote::remote_result<void>> remove(std::vector<std::string> keys, tv::remote::call_options call) override {
        co_return co_await inner.remove(std::move(keys), std::move(call));
    }
    tv::io::task<tv::remote::remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 tv::remote::call_options call, tv::remote::body_pacer pacer) override {
        co_return co_await inner.read(std::move(key), offset, into, std::move(call), std::move(pacer));
    }
    tv::io::task<tv::remote::remote_result<tv::remote::resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                                          tv::remote::call_options call) override {
        co_return co_await inner.resume_upload(std::move(key), std::move(upload_id), std::move(call));
    }
    std::string describe() const override { return inner.describe(); }
    std::string endpoint() const override { return shown_endpoint; }

    tv::remote::local_store inner;
    std::string shown_endpoint;
};

}  // namespace tv::testing
