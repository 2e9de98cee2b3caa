// SPDX-License-Identifier: Apache-2.0
// Stream Load: header checks, CSV rows to typed batches (bad rows filtered and counted), the
// load writer, max_filter_ratio at the end.
#include "sql/load/stream_load.hh"

#include "io/ascii.hh"
#include "io/printable.hh"
#include "sql/expression/cast.hh"
#include "sql/load/index_deriver.hh"
#include "storage/catalog.hh"
#include "storage/load_writer.hh"

#include <fmt/format.h>

#include <charconv>

namespace tv::sql {

namespace {

constexpr size_t k_rows_per_batch = 65536;

std::string_view header_of(const stream_load_request& r, std::string_view name) {
    for (const auto& [key, value] : r.headers) {
        if (ascii_lower(key) == name) {
            return value;
        }
    }
    return {};
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = trim_blanks(text.substr(0, comma));
        if (item.size() >= 2 && item.front() == '`' && item.back() == '`') {
            item = item.substr(1, item.size() - 2);
        }
        out.emplace_back(item);
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

/// A filtered row's reason as the answer quotes it: the value in it is already an excerpt
/// (cast_error), and this bounds whatever else a reason may quote.
std::string capped_reason(std::string_view reason) {
    return printable_excerpt(reason, 1024);
}

stream_load_result refusal(std::string label, std::string message, int http_status = 200) {
    stream_load_result r;
    r.http_status = http_status;
    r.label = std::move(label);
    r.status = "Fail";
    r.message = std::move(message);
    return r;
}

uint64_t ms_since(std::chrono::steady_clock::time_point t) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
}

std::vector<storage::column_desc> text_schema(const std::vector<storage::column_desc>& supplied) {
    std::vector<storage::column_desc> schema;
    for (const auto& c : supplied) {
        storage::column_type text;
        text.kind = storage::type_kind::string;
        schema.push_back({c.name, text, true});
    }
    return schema;
}

std::vector<storage::column_vector> empty_text_columns(size_t n) {
    std::vector<storage::column_vector> columns;
    for (size_t i = 0; i < n; ++i) {
        columns.emplace_back(storage::physical_type::bytes, true);
    }
    return columns;
}

/// Reads the format headers; the error names the header.
std::variant<csv_format, std::string> format_of(const stream_load_request& r) {
    csv_format f;
    std::string_view format = header_of(r, "format");
    if (!format.empty() && ascii_lower(format) != "csv") {
        return fmt::format("format '{}' is not supported yet: only csv", printable_value(format));
    }
    for (auto [name, target] : {std::pair{"column_separator", &f.column_separator},
                                std::pair{"row_delimiter", &f.row_delimiter}}) {
        std::string_view value = header_of(r, name);
        if (value.empty()) {
            continue;
        }
        auto parsed = parse_separator(value);
        if (parsed.index() == 1) {
            return fmt::format("invalid {}: {}", name, std::get<1>(parsed));
        }
        *target = std::get<0>(parsed);
    }
    for (auto [name, target] : {std::pair{"enclose", &f.enclose}, std::pair{"escape", &f.escape}}) {
        std::string_view value = header_of(r, name);
        if (value.empty()) {
            continue;
        }
        auto parsed = parse_separator(value);
        if (parsed.index() == 1 || std::get<0>(parsed).size() != 1) {
            return fmt::format("invalid {} '{}': one byte expected", name, printable_value(value));
        }
        *target = std::get<0>(parsed)[0];
    }
    if (std::string_view skip = header_of(r, "skip_header"); !skip.empty()) {
        auto [end, ec] = std::from_chars(skip.data(), skip.data() + skip.size(), f.skip_header);
        if (ec != std::errc{} || end != skip.data() + skip.size()) {
            return fmt::format("invalid skip_header '{}': a number of rows expected", printable_value(skip));
        }
    }
    f.trim_space = ascii_lower(header_of(r, "trim_space")) == "true";
    return f;
}

}  // namespace

stream_load::stream_load(storage::catalog& catalog, csv_format format, load_columns columns, double max_filter_ratio)
    : _catalog(catalog), _reader(std::move(format)), _columns(std::move(columns)),
      _max_filter_ratio(max_filter_ratio), _pending(empty_text_columns(_columns.supplied().size())),
      _started(std::chrono::steady_clock::now()) {}

stream_load::~stream_load() = default;

std::variant<std::unique_ptr<stream_load>, stream_load_result> stream_load::begin(storage::catalog& catalog,
                                                                                  const storage::data_options& data,
                                                                                  stream_load_request request) {
    std::string label(header_of(request, "label"));
    const storage::user* u = request.user;
    if (u == nullptr) {
        return refusal(label, "Access denied: no authenticated user", 401);
    }
    if (catalog.find_database(request.db) == nullptr) {
        return refusal(label, fmt::format("Unknown database '{}'", printable_value(request.db)));
    }
    const storage::table* t = catalog.find_table(request.db, request.table);
    if (t == nullptr) {
        return refusal(label, fmt::format("unknown table, tableName={}", printable_value(request.table)));
    }
    if (!catalog.has_table_privilege(*u, storage::privilege::insert, request.db, t->name)) {
        return refusal(label,
                       fmt::format("Access denied; you need (at least one of) the INSERT privilege(s) on TABLE "
                                   "{} for this operation",
                                   t->name),
                       403);
    }
    if (label.empty()) {
        label = generated_load_label("stream_load");
    } else if (catalog.label_used(request.db, label)) {
        stream_load_result r = refusal(label, fmt::format("Label [{}] has already been used.", printable_value(label)));
        r.status = "Label Already Exists";
        r.existing_job_status = "FINISHED";
        return r;
    }
    if (!header_of(request, "where").empty()) {
        return refusal(label, "the 'where' header is not supported yet");
    }
    auto format = format_of(request);
    if (auto* error = std::get_if<std::string>(&format)) {
        return refusal(label, *error);
    }
    std::vector<std::string> names = split_list(header_of(request, "columns"));
    for (const auto& name : names) {
        if (name.find('=') != std::string::npos) {
            return refusal(label, fmt::format("column mapping '{}' is not supported yet: list table columns only",
                                              printable_value(name)));
        }
    }
    auto columns = load_columns::resolve(*t, names);
    if (!columns) {
        return refusal(label, columns.error().message);
    }
    double ratio = 0;
    if (std::string_view text = header_of(request, "max_filter_ratio"); !text.empty()) {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ratio);
        if (ec != std::errc{} || end != text.data() + text.size() || ratio < 0 || ratio > 1) {
            return refusal(label, fmt::format("invalid max_filter_ratio '{}': a number from 0 to 1 expected",
                                              printable_value(text)));
        }
    }
    session load_session;
    load_session.user = u->name;
    load_session.host = u->host;
    load_session.client_host = request.client_host;
    load_session.current_db = request.db;
    storage::load_options options;
    options.label = label;
    options.partitions = split_list(header_of(request, "partitions"));
    auto writer = storage::load_writer::begin(catalog, data, request.db, t->name, options, make_index_deriver(load_session));
    if (!writer) {
        return refusal(label, writer.error().message);
    }
    std::unique_ptr<stream_load> load(new stream_load(catalog, std::get<csv_format>(std::move(format)),
                                                      std::move(*columns), ratio));
    load->_writer = std::move(*writer);
    load->_result.label = label;
    return load;
}

io::task<std::optional<stream_load_result>> stream_load::feed(std::string_view bytes) {
    _result.load_bytes += bytes.size();
    _reader.feed(bytes);
    const size_t expected = _columns.supplied().size();
    while (_reader.next_row(_fields)) {
        ++_result.total_rows;
        if (_fields.size() != expected) {
            ++_result.filtered_rows;
            if (_result.first_error.empty()) {
                _result.first_error = fmt::format("Value count does not match column count. Expect {}, but got {}.",
                                                  expected, _fields.size());
            }
            continue;
        }
        for (size_t i = 0; i < expected; ++i) {
            if (_fields[i] == "\\N") {
                _pending[i].append_null();
            } else {
                _pending[i].append(storage::cell(_fields[i]));
            }
        }
        if (_pending[0].size() >= k_rows_per_batch) {
            auto failed = co_await flush();
            if (failed) {
                co_return co_await fail(std::move(*failed));
            }
        }
    }
    co_return std::nullopt;
}

io::task<std::optional<std::string>> stream_load::flush() {
    if (_pending.empty() || _pending[0].size() == 0) {
        co_return std::nullopt;
    }
    storage::column_batch text(text_schema(_columns.supplied()), std::move(_pending));
    _pending = empty_text_columns(_columns.supplied().size());
    auto converted = cast_batch(std::move(text), _columns.supplied(), false);
    if (!converted) {
        co_return converted.error().message;
    }
    auto& outcome = *converted;
    _result.filtered_rows += outcome.filtered;
    if (_result.first_error.empty() && !outcome.first_error.empty()) {
        _result.first_error = capped_reason(outcome.first_error);
    }
    if (outcome.rows.num_rows() == 0) {
        co_return std::nullopt;
    }
    auto started = std::chrono::steady_clock::now();
    auto routable = _writer->keep_routable(_columns.complete(std::move(outcome.rows)));
    _result.filtered_rows += routable.dropped;
    if (_result.first_error.empty()) {
        _result.first_error = capped_reason(routable.first_error);
    }
    if (routable.rows.num_rows() == 0) {
        co_return std::nullopt;
    }
    auto appended = co_await _writer->append(std::move(routable.rows));
    _write_time += std::chrono::steady_clock::now() - started;
    if (!appended) {
        co_return appended.error().message;
    }
    co_return std::nullopt;
}

io::task<stream_load_result> stream_load::fail(std::string message) {
    co_await _writer->abort();
    _result.status = "Fail";
    _result.message = std::move(message);
    _result.loaded_rows = 0;
    _result.load_time_ms = ms_since(_started);
    co_return _result;
}

io::task<void> stream_load::abort() {
    co_await _writer->abort();
}

io::task<stream_load_result> stream_load::finish() {
    _reader.finish();
    std::string_view no_more_bytes;
    auto rest = co_await feed(no_more_bytes);
    if (rest) {
        co_return std::move(*rest);
    }
    auto flushed = co_await flush();
    if (flushed) {
        co_return co_await fail(std::move(*flushed));
    }
    _result.read_data_time_ms = ms_since(_started);
    if (_result.filtered_rows > 0 &&
        static_cast<double>(_result.filtered_rows) > _max_filter_ratio * static_cast<double>(_result.total_rows)) {
        std::string message = fmt::format("too many filtered rows: {} of {} rows filtered, max_filter_ratio is {}",
                                          _result.filtered_rows, _result.total_rows, _max_filter_ratio);
        if (!_result.first_error.empty()) {
            message += fmt::format("; first error: {}", _result.first_error);
        }
        co_return co_await fail(std::move(message));
    }
    auto publish_started = std::chrono::steady_clock::now();
    auto committed = co_await _writer->commit();
    if (!committed && committed.error().code == storage::storage_errc::outcome_unknown) {
        // Not "Fail", which tells a client nothing went in and to send the rows again: they may
        // be in. A load sent again with this label after the restart answers Label Already
        // Exists if they are, and loads if they are not.
        _result.status = "Unknown";
        _result.message = fmt::format("{}; send it again with label {} after the restart", committed.error().message,
                                      _result.label);
        _result.loaded_rows = 0;
        _result.load_time_ms = ms_since(_started);
        co_return _result;
    }
    if (!committed) {
        co_return co_await fail(committed.error().message);
    }
    _result.commit_and_publish_time_ms = ms_since(publish_started);
    _result.write_data_time_ms =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(_write_time).count());
    _result.loaded_rows = _result.total_rows - _result.filtered_rows;
    _result.txn_id = static_cast<int64_t>(_catalog.last_sequence());
    _result.load_time_ms = ms_since(_started);
    co_return _result;
}

}  // namespace tv::sql
