// SPDX-License-Identifier: Apache-2.0
// s3_object_store's part-wise calls: ranged reads into a caller's buffer and multipart uploads
// (begun, continued after a restart from ListParts, completed or aborted).
#include "remote/s3_client.hh"

#include <fmt/format.h>

namespace tv::remote {

namespace {

class s3_multipart_upload final : public object_upload {
public:
    s3_multipart_upload(s3_client* client, std::string key, std::string upload_id)
        : _client(client), _key(std::move(key)), _upload_id(std::move(upload_id)) {}

    io::task<remote_result<uploaded_part>> write_part(int number, uint64_t offset, std::span<const std::byte> data,
                                                      call_options call, body_pacer pacer) override {
        (void)offset;  // S3 places parts by number
        auto etag = co_await _client->upload_part(_key, _upload_id, number, data, std::move(call), std::move(pacer));
        if (!etag) {
            co_return etag.error().to_remote_error();
        }
        co_return uploaded_part{number, std::move(*etag), data.size()};
    }

    io::task<remote_result<void>> complete(std::vector<uploaded_part> parts, call_options call) override {
        std::vector<s3_part> s3_parts;
        s3_parts.reserve(parts.size());
        for (auto& p : parts) {
            s3_parts.push_back(s3_part{p.number, std::move(p.etag), p.size});
        }
        auto done = co_await _client->complete_multipart_upload(_key, _upload_id, std::move(s3_parts), std::move(call));
        if (!done) {
            co_return done.error().to_remote_error();
        }
        _finished = true;
        co_return remote_result<void>{};
    }

    io::task<remote_result<void>> abort(call_options call) override {
        if (_finished) {
            co_return remote_result<void>{};
        }
        auto aborted = co_await _client->abort_multipart_upload(_key, _upload_id, std::move(call));
        if (!aborted && aborted.error().to_remote_error().code != remote_errc::not_found) {
            co_return aborted.error().to_remote_error();
        }
        _finished = true;
        co_return remote_result<void>{};
    }

    const std::string& upload_id() const override { return _upload_id; }

private:
    s3_client* _client;
    std::string _key;
    std::string _upload_id;
    bool _finished = false;
};

remote_error invalid_key(std::string why) {
    return make_remote_error(remote_errc::bad_config, std::move(why));
}

}  // namespace

io::task<remote_result<size_t>> s3_object_store::read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                     call_options call, body_pacer pacer) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    if (into.empty()) {
        co_return size_t{0};
    }
    std::string full = _prefix + key;
    auto got = co_await _client.get_object_into(std::move(full), offset, into, std::move(call), std::move(pacer));
    if (!got) {
        auto e = got.error().to_remote_error();
        if (e.code == remote_errc::range_not_satisfiable) {
            co_return size_t{0};  // at or past the end (S3 answers 416): no bytes, as a file read says
        }
        co_return e;
    }
    co_return *got;
}

io::task<remote_result<std::unique_ptr<object_upload>>> s3_object_store::begin_upload(std::string key,
                                                                                     call_options call) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    std::string full = _prefix + key;
    auto id = co_await _client.create_multipart_upload(full, std::move(call));
    if (!id) {
        co_return id.error().to_remote_error();
    }
    std::unique_ptr<object_upload> upload = std::make_unique<s3_multipart_upload>(&_client, full, std::move(*id));
    co_return upload;
}

io::task<remote_result<resumed_upload>> s3_object_store::resume_upload(std::string key, std::string upload_id,
                                                                      call_options call) {
    if (auto why = check_key(key)) {
        co_return invalid_key(std::move(*why));
    }
    std::string full = _prefix + key;
    auto parts = co_await _client.list_parts(full, upload_id, std::move(call));
    if (!parts) {
        co_return parts.error().to_remote_error();
    }
    resumed_upload resumed;
    resumed.upload = std::make_unique<s3_multipart_upload>(&_client, full, std::move(upload_id));
    for (auto& p : *parts) {
        resumed.parts.push_back(uploaded_part{p.number, std::move(p.etag), p.size});
    }
    co_return resumed;
}

}  // namespace tv::remote
