// SPDX-License-Identifier: Apache-2.0
// Manifest JSON: written compactly, read with a nesting limit and every field checked.
#include "jobs/snapshot_manifest.hh"

#include "io/printable.hh"
#include "jobs/json_fields.hh"
#include "remote/object_store.hh"
#include "remote/snapshot_layout.hh"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace tv::jobs {

namespace json = boost::json;

namespace {

/// Files larger than this are not ours: 16 TiB, far above any segment.
constexpr uint64_t max_file_size = uint64_t{16} << 40;

/// What a manifest may nest: its own shape is three levels deep.
constexpr size_t max_json_depth = 8;

job_error bad(std::string_view key, std::string_view what) {
    return make_job_error(status_code::bad_file, fmt::format("manifest {} is not valid: {}", key, what));
}

/// A path component from an untrusted manifest: a plain name that cannot leave its directory.
bool plain_name(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
           s.find('\0') == std::string_view::npos && s.size() <= 255;
}

}  // namespace

std::optional<pipeline::hash128> parse_hash128(std::string_view hex) {
    if (hex.size() != 32) {
        return std::nullopt;
    }
    pipeline::hash128 out;
    for (auto [part, target] : {std::pair{hex.substr(0, 16), &out.high}, std::pair{hex.substr(16), &out.low}}) {
        for (char c : part) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return std::nullopt;
            }
        }
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), *target, 16);
        if (ec != std::errc{} || end != part.data() + part.size()) {
            return std::nullopt;
        }
    }
    return out;
}

std::string encode_manifest(const snapshot_manifest& manifest) {
    json::array files;
    files.reserve(manifest.files.size());
    for (const auto& f : manifest.files) {
        json::object o;
        o["db"] = f.db;
        o["table"] = f.table;
        o["partition"] = f.partition;
        o["index"] = f.index;
        o["tablet_id"] = f.tablet_id;
        o["name"] = f.name;
        o["size"] = f.size;
        o["rows"] = f.rows;
        if (f.version > 0) {
            o["version"] = f.version;
        }
        o["xxh3_128"] = f.hash.hex();
        o["segment_checksum"] = f.segment_checksum;
        o["key"] = f.key;
        if (f.packed) {
            o["packed"] = true;
            o["offset"] = f.offset;
        }
        o["encoding"] = f.encoding;
        files.push_back(std::move(o));
    }
    json::object root;
    root["format_version"] = manifest.format_version;
    root["label"] = manifest.label;
    root["timestamp"] = manifest.timestamp;
    root["cluster_id"] = manifest.cluster_id;
    root["complete"] = manifest.complete;
    root["files"] = std::move(files);
    return json::serialize(root);
}

job_result<snapshot_manifest> decode_manifest(std::string_view text, std::string_view object_key) {
    auto parsed = parse_untrusted_object(text, max_json_depth, fmt::format("manifest {}", object_key));
    if (!parsed) {
        return parsed.error();
    }
    const json::object* root = &*parsed;
    auto text_of = [](const json::object& o, std::string_view name) { return string_of(o.if_contains(name)); };
    auto number_of = [](const json::object& o, std::string_view name) { return unsigned_of(o.if_contains(name)); };
    snapshot_manifest out;
    auto version = number_of(*root, "format_version");
    if (!version) {
        return bad(object_key, "no format_version");
    }
    if (*version > static_cast<uint64_t>(remote::repository_format_version)) {
        return make_job_error(status_code::unsupported,
                              fmt::format("manifest {} has format version {}, newer than this server reads ({}); "
                                          "upgrade tabletvault to restore it",
                                          object_key, *version, remote::repository_format_version));
    }
    out.format_version = static_cast<int64_t>(*version);
    auto label = text_of(*root, "label");
    auto timestamp = text_of(*root, "timestamp");
    auto cluster = text_of(*root, "cluster_id");
    const json::value* complete = root->if_contains("complete");
    const json::value* files = root->if_contains("files");
    if (!label || !timestamp || !cluster || complete == nullptr || !complete->is_bool() || files == nullptr ||
        !files->is_array()) {
        return bad(object_key, "label, timestamp, cluster_id, complete or files is missing or of the wrong type");
    }
    if (!plain_name(*cluster)) {
        return bad(object_key, fmt::format("cluster_id '{}' is not a plain name", *cluster));
    }
    out.label = std::move(*label);
    out.timestamp = std::move(*timestamp);
    out.cluster_id = std::move(*cluster);
    out.complete = complete->get_bool();
    const json::array& list = files->get_array();
    out.files.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
        const json::object* o = list[i].if_object();
        if (o == nullptr) {
            return bad(object_key, fmt::format("file {} is not an object", i));
        }
        manifest_file f;
        auto db = text_of(*o, "db");
        auto table = text_of(*o, "table");
        auto partition = text_of(*o, "partition");
        auto index = text_of(*o, "index");
        auto name = text_of(*o, "name");
        auto tablet = number_of(*o, "tablet_id");
        auto size = number_of(*o, "size");
        auto rows = number_of(*o, "rows");
        auto hash = text_of(*o, "xxh3_128");
        auto segment_checksum = number_of(*o, "segment_checksum");
        auto key = text_of(*o, "key");
        auto encoding = text_of(*o, "encoding");
        if (!db || !table || !partition || !index || !name || !tablet || !size || !rows || !hash ||
            !segment_checksum || !key || !encoding) {
            return bad(object_key, fmt::format("file {} lacks a field or has one of the wrong type", i));
        }
        for (const std::string* component : {&*db, &*table, &*partition, &*index, &*name}) {
            if (!plain_name(*component)) {
                return bad(object_key, fmt::format("file {} has the path component '{}', which is not a plain name",
                                                   i, printable_value(*component)));
            }
        }
        if (*size > max_file_size) {
            return bad(object_key, fmt::format("file {} claims {} bytes", i, *size));
        }
        auto parsed_hash = parse_hash128(*hash);
        if (!parsed_hash) {
            return bad(object_key, fmt::format("file {} has the hash '{}', not 32 lowercase hex digits", i, *hash));
        }
        if (auto why = remote::check_key(*key)) {
            return bad(object_key, fmt::format("file {}: {}", i, *why));
        }
        if (*encoding != encoding_none) {
            return make_job_error(status_code::unsupported,
                                  fmt::format("manifest {}: file {} is stored with encoding '{}', which this server "
                                              "does not know; upgrade tabletvault to restore it",
                                              object_key, i, *encoding));
        }
        f.db = std::move(*db);
        f.table = std::move(*table);
        f.partition = std::move(*partition);
        f.index = std::move(*index);
        f.tablet_id = *tablet;
        f.name = std::move(*name);
        f.size = *size;
        f.rows = *rows;
        f.hash = *parsed_hash;
        f.segment_checksum = *segment_checksum;
        f.key = std::move(*key);
        f.encoding = std::move(*encoding);
        if (o->contains("version")) {
            auto version = number_of(*o, "version");
            if (!version || *version > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return bad(object_key, fmt::format("file {} has a bad version", i));
            }
            f.version = static_cast<int64_t>(*version);
        }
        if (const json::value* packed = o->if_contains("packed"); packed != nullptr) {
            auto offset = number_of(*o, "offset");
            if (!packed->is_bool() || !offset || *offset > max_file_size) {
                return bad(object_key, fmt::format("file {} has a bad packed/offset", i));
            }
            f.packed = packed->get_bool();
            f.offset = *offset;
        }
        out.files.push_back(std::move(f));
    }
    return out;
}

}  // namespace tv::jobs
