// SPDX-License-Identifier: Apache-2.0
// s3_object_store: the object_store calls on one bucket under a key prefix. S3 already has the
// interface's semantics (atomic puts, idempotent removes, byte-ordered prefix listings), so
// this only validates keys, adds and strips the prefix, and maps errors.
#include "remote/s3_client.hh"

namespace tv::remote {

namespace {

remote_error invalid_key(std::string why) {
    return make_remote_error(remote_errc::bad_config, std::move(why));
}

}  // namespace

s3_object_store::s3_object_store(s3_client_options options, aws_credentials credentials, std::string prefix)
    : _client(std::move(options), std::move(credentials)), _prefix(std::move(prefix)) {}

s3_object_store::s3_object_store(s3_client_options options, std::shared_ptr<credentials_provider> credentials,
                                 std::string prefix)
    : _client(std::move(options), std::move(credentials)), _prefix(std::move(prefix)) {}

std::string s3_object_store::describe() const {
    return _prefix.empty() ? _client.describe() : _client.describe() + " under " + _prefix;
}

io::task<remote_result<void>> s3_object_store::put(std::string key, std::span<const std::byte> data,
                                                   call_options call, body_pacer pacer) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    std::string full = _prefix + key;
    auto r = co_await _client.put_object(std::move(full), data, std::move(call), std::move(pacer));
    if (!r) {
        co_return r.error().to_remote_error();
    }
    co_return remote_result<void>{};
}

io::task<remote_result<std::string>> s3_object_store::get(std::string key, std::optional<byte_range> range,
                                                          call_options call) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    auto r = co_await _client.get_object(_prefix + key, range, std::move(call));
    if (!r) {
        co_return r.error().to_remote_error();
    }
    co_return std::move(*r);
}

io::task<remote_result<object_info>> s3_object_store::head(std::string key, call_options call) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    auto r = co_await _client.head_object(_prefix + key, std::move(call));
    if (!r) {
        co_return r.error().to_remote_error();
    }
    object_info info;
    info.key = std::move(key);
    info.size = r->size;
    info.modified_ms = r->modified_ms;
    co_return info;
}

io::task<remote_result<std::vector<object_info>>> s3_object_store::list(std::string prefix, call_options call) {
    auto r = co_await _client.list_all(_prefix + prefix, 0, std::move(call));
    if (!r) {
        co_return r.error().to_remote_error();
    }
    for (auto& info : *r) {
        info.key.erase(0, _prefix.size());
    }
    co_return std::move(*r);
}

io::task<remote_result<void>> s3_object_store::remove(std::vector<std::string> keys, call_options call) {
    std::vector<std::string> full;
    full.reserve(keys.size());
    for (auto& key : keys) {
        if (auto why = check_key(key)) {
            co_return invalid_key(std::move(*why));
        }
        full.push_back(_prefix + key);
    }
    if (full.empty()) {
        co_return remote_result<void>{};
    }
    auto r = co_await _client.delete_objects(std::move(full), std::move(call));
    if (!r) {
        co_return r.error().to_remote_error();
    }
    co_return remote_result<void>{};
}

io::task<remote_result<size_t>> s3_object_store::sweep_abandoned_writes(sweep_scope scope, call_options call) {
    auto listed = co_await _client.list_all_multipart_uploads(_prefix + scope.prefix, 0, call);
    if (!listed) {
        co_return listed.error().to_remote_error();
    }
    size_t aborted = 0;
    for (auto& upload : *listed) {
        // An unreadable date is taken as "just begun": not knowing its age, it may be live.
        bool young = upload.initiated_ms == 0 || scope.now_ms - upload.initiated_ms < scope.grace_ms;
        bool others = !scope.shared_prefix.empty() && upload.key.starts_with(_prefix + scope.shared_prefix) &&
                      !upload.key.starts_with(_prefix + scope.own_prefix);
        if (scope.keep.contains(upload.upload_id) || young || others) {
            continue;
        }
        auto r = co_await _client.abort_multipart_upload(upload.key, upload.upload_id, call);
        if (!r && r.error().code != "NoSuchUpload") {  // gone meanwhile: completed or aborted by its owner
            co_return r.error().to_remote_error();
        }
        aborted += r ? 1 : 0;
    }
    co_return aborted;
}

}  // namespace tv::remote
