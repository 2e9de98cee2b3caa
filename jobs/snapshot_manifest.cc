// SPDX-License-Identifier: Apache-2.0
// Manifest JSON: written compactly, read with a nesting limit and every field checked.
#include "jobs/snapshot_manifest.hh"

#include "io/printable.hh"
#include "jobs/json_fields.hh"
#include "remote/object_store.hh"
#include "remote/snapshot_layout.hh"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
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

namespace {

json::object file_object(const manifest_file& f) {
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
    return o;
}

}  // namespace

// Written one file object at a time (serialize_with_list): a document of every file at once
// costs about 2 KiB of heap per file (50 MiB for 20,000 files).
std::string encode_manifest(const snapshot_manifest& manifest) {
    json::object head;
    head["format_version"] = manifest.format_version;
    head["label"] = manifest.label;
    head["timestamp"] = manifest.timestamp;
    head["cluster_id"] = manifest.cluster_id;
    head["complete"] = manifest.complete;
    // Reserved rather than grown, which would copy it from a buffer half the size each time:
    // the names plus what the keys and numbers of one file object take at most (pages of the
    // reserve that are never written are never resident).
    size_t estimate = 0;
    for (const auto& f : manifest.files) {
        estimate += f.db.size() + f.table.size() + f.partition.size() + f.index.size() + f.name.size() +
                    f.key.size() + f.encoding.size() + 384;
    }
    return serialize_with_list(head, "files", manifest.files.size(),
                               [&](size_t i) { return file_object(manifest.files[i]); }, estimate);
}

namespace {

/// One file object of a manifest's "files", checked; `i` is its place in the list.
job_result<manifest_file> decode_file(const json::object& file, size_t i, std::string_view object_key) {
    const json::object* o = &file;
    auto text_of = [](const json::object& o, std::string_view name) { return string_of(o.if_contains(name)); };
    auto number_of = [](const json::object& o, std::string_view name) { return unsigned_of(o.if_contains(name)); };
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
    return f;
}

job_error newer_format(std::string_view object_key, uint64_t version) {
    return make_job_error(status_code::unsupported,
                          fmt::format("manifest {} has format version {}, newer than this server reads ({}); "
                                      "upgrade tabletvault to restore it",
                                      object_key, version, remote::repository_format_version));
}

/// Reads a manifest as it parses, one file object at a time: the root's plain fields are kept
/// as they come, and each element of "files" is built as a small document of its own, checked
/// and turned into a manifest_file, then dropped. A document of the whole manifest would take
/// about 1.7 KiB per file (33 MiB for 20,000 files) on top of the text and the result. Fields
/// the reader does not know, at any depth, are skipped. (The handler of json::basic_parser.)
class manifest_reader {
public:
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    explicit manifest_reader(std::string_view object_key) : _key(object_key) {}

    /// What was read: the plain fields of the root, whether "files" was an array, the files.
    json::object root;
    bool files_seen = false;
    snapshot_manifest manifest;
    /// Why reading stopped early (the parser then reports an error of its own).
    std::optional<job_error> failure;

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code& ec) {
        if (_depth == 0) {
            _depth = 1;
            return true;
        }
        return open(true, ec);
    }
    bool on_object_end(std::size_t n, boost::system::error_code& ec) {
        if (in_file()) {
            _file.push_object(n);
        }
        return close(ec);
    }
    bool on_array_begin(boost::system::error_code& ec) {
        if (_depth == 0) {
            return fail(bad(_key, "not a JSON object"), ec);
        }
        if (_depth == 1 && _root_key == "files") {
            files_seen = true;
            _in_files = true;
            ++_depth;
            return true;
        }
        return open(false, ec);
    }
    bool on_array_end(std::size_t n, boost::system::error_code& ec) {
        if (in_file()) {
            _file.push_array(n);
        }
        if (_depth == 2 && _in_files) {
            _in_files = false;
        }
        return close(ec);
    }
    bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (_depth == 1) {
            if (!_root_key_open) {
                _root_key.clear();
                _root_key_open = true;
            }
            _root_key.append(s.data(), s.size());
        } else if (in_file()) {
            _file.push_chars(s);
        }
        return true;
    }
    bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (_depth == 1) {
            if (!_root_key_open) {
                _root_key.clear();
            }
            _root_key.append(s.data(), s.size());
            _root_key_open = false;
        } else if (in_file()) {
            _file.push_key(s);
        }
        return true;
    }
    bool on_string_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
        if (_depth == 1) {
            _root_value.append(s.data(), s.size());
        } else if (in_file()) {
            _file.push_chars(s);
        }
        return true;
    }
    bool on_string(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
        if (_depth == 1) {
            _root_value.append(s.data(), s.size());
            keep_root(json::value(_root_value));
            _root_value.clear();
            return true;
        }
        if (in_file()) {
            _file.push_string(s);
            return true;
        }
        return element_scalar(ec);
    }
    bool on_number_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t v, boost::json::string_view, boost::system::error_code& ec) {
        return scalar(json::value(v), ec);
    }
    bool on_uint64(std::uint64_t v, boost::json::string_view, boost::system::error_code& ec) {
        return scalar(json::value(v), ec);
    }
    bool on_double(double v, boost::json::string_view, boost::system::error_code& ec) {
        return scalar(json::value(v), ec);
    }
    bool on_bool(bool v, boost::system::error_code& ec) { return scalar(json::value(v), ec); }
    bool on_null(boost::system::error_code& ec) { return scalar(json::value(nullptr), ec); }
    bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
    bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

private:
    /// Inside an element of "files" (which is at depth 3).
    bool in_file() const { return _in_files && _depth >= 3; }

    bool open(bool object, boost::system::error_code& ec) {
        if (_depth == 1) {
            // A nested value at the root: known fields are of the wrong type, others skipped.
            keep_root(object ? json::value(json::object()) : json::value(json::array()));
        } else if (_in_files && _depth == 2) {
            if (!object) {
                return fail(bad(_key, fmt::format("file {} is not an object", manifest.files.size())), ec);
            }
            _file.reset();
        }
        ++_depth;
        return true;
    }

    bool close(boost::system::error_code& ec) {
        --_depth;
        if (_in_files && _depth == 2) {
            json::value element = _file.release();
            auto f = decode_file(element.get_object(), manifest.files.size(), _key);
            if (!f) {
                return fail(f.error(), ec);
            }
            manifest.files.push_back(std::move(*f));
        }
        return true;
    }

    bool scalar(json::value v, boost::system::error_code& ec) {
        if (_depth == 1) {
            return root_scalar(std::move(v), ec);
        }
        if (in_file()) {
            push(v);
            return true;
        }
        return element_scalar(ec);
    }

    /// A plain value in "files" itself is not a file; elsewhere (inside skipped fields) ignored.
    bool element_scalar(boost::system::error_code& ec) {
        if (_in_files && _depth == 2) {
            return fail(bad(_key, fmt::format("file {} is not an object", manifest.files.size())), ec);
        }
        return true;
    }

    void keep_root(json::value v) { root[_root_key] = std::move(v); }
    bool root_scalar(json::value v, boost::system::error_code& ec) {
        // The version decides how the rest reads: a newer one is refused before its files.
        if (_root_key == "format_version") {
            auto version = unsigned_of(&v);
            if (version && *version > static_cast<uint64_t>(remote::repository_format_version)) {
                return fail(newer_format(_key, *version), ec);
            }
        }
        keep_root(std::move(v));
        return true;
    }

    void push(const json::value& v) {
        switch (v.kind()) {
        case json::kind::int64: _file.push_int64(v.get_int64()); break;
        case json::kind::uint64: _file.push_uint64(v.get_uint64()); break;
        case json::kind::double_: _file.push_double(v.get_double()); break;
        case json::kind::bool_: _file.push_bool(v.get_bool()); break;
        default: _file.push_null(); break;
        }
    }

    bool fail(job_error e, boost::system::error_code& ec) {
        failure = std::move(e);
        ec = boost::json::error::exception;  // any error: it only stops the parser
        return false;
    }

    std::string_view _key;
    size_t _depth = 0;
    bool _in_files = false;
    std::string _root_key;
    bool _root_key_open = false;
    std::string _root_value;
    json::value_stack _file;
};

}  // namespace

job_result<snapshot_manifest> decode_manifest(std::string_view text, std::string_view object_key) {
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
        // Not an object, so not a manifest: the general reader says whether it is JSON at all.
        auto parsed = parse_untrusted_object(text, max_json_depth, fmt::format("manifest {}", object_key));
        return parsed ? bad(object_key, "not a JSON object") : parsed.error();
    }
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::basic_parser<manifest_reader> parser(options, object_key);
    // A file object takes more than 200 bytes of text: room for them all, so that the list is not
    // grown by copying (what is reserved beyond the files is never touched, so never resident).
    parser.handler().manifest.files.reserve(text.size() / 200);
    boost::system::error_code ec;
    size_t used = parser.write_some(false, text.data(), text.size(), ec);
    manifest_reader& reader = parser.handler();
    if (reader.failure) {
        return *reader.failure;
    }
    if (!ec && used != text.size()) {
        ec = boost::json::error::extra_data;
    }
    if (ec) {
        return bad(object_key, fmt::format("not JSON ({})", ec.message()));
    }
    const json::object& root = reader.root;
    auto version = unsigned_of(root.if_contains("format_version"));
    if (!version) {
        return bad(object_key, "no format_version");
    }
    snapshot_manifest& out = reader.manifest;
    out.format_version = static_cast<int64_t>(*version);
    auto label = string_of(root.if_contains("label"));
    auto timestamp = string_of(root.if_contains("timestamp"));
    auto cluster = string_of(root.if_contains("cluster_id"));
    const json::value* complete = root.if_contains("complete");
    if (!label || !timestamp || !cluster || complete == nullptr || !complete->is_bool() || !reader.files_seen) {
        return bad(object_key, "label, timestamp, cluster_id, complete or files is missing or of the wrong type");
    }
    if (!plain_name(*cluster)) {
        return bad(object_key, fmt::format("cluster_id '{}' is not a plain name", *cluster));
    }
    out.label = std::move(*label);
    out.timestamp = std::move(*timestamp);
    out.cluster_id = std::move(*cluster);
    out.complete = complete->get_bool();
    return std::move(out);
}

}  // namespace tv::jobs
