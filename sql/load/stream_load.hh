// SPDX-License-Identifier: Apache-2.0
// Stream Load: CSV over HTTP into one table, as StarRocks' /api/{db}/{table}/_stream_load. The
// HTTP side (server/) hands over the request's headers and then the body piece by piece; this
// side authenticates, parses, converts, loads through a storage::load_writer and reports the
// StarRocks counters. Nothing is visible unless the whole load commits.
#pragma once

#include "io/task.hh"
#include "sql/load/csv_reader.hh"
#include "sql/load/load_columns.hh"
#include "storage/data_options.hh"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tv::storage {
class catalog;
class load_writer;
struct user;
}

namespace tv::sql {

struct stream_load_request {
    std::string db;
    std::string table;
    const storage::user* user = nullptr;  ///< authenticated by the HTTP layer (server/http_auth.hh)
    std::string client_host;
    std::vector<std::pair<std::string, std::string>> headers;  ///< label, column_separator, columns, ...
};

/// What StarRocks answers, field for field.
struct stream_load_result {
    int http_status = 200;
    int64_t txn_id = -1;
    std::string label;
    /// "Success", "Fail", "Label Already Exists", or "Unknown": the disk failed as the load's
    /// record was written, and a restart decides whether it went in.
    std::string status = "Success";
    std::string message = "OK";
    std::string existing_job_status;  ///< with "Label Already Exists": "FINISHED"
    uint64_t total_rows = 0;
    uint64_t loaded_rows = 0;
    uint64_t filtered_rows = 0;
    uint64_t unselected_rows = 0;
    uint64_t load_bytes = 0;
    uint64_t load_time_ms = 0;
    uint64_t read_data_time_ms = 0;
    uint64_t write_data_time_ms = 0;
    uint64_t commit_and_publish_time_ms = 0;
    std::string first_error;  ///< the first filtered row's reason, for the message
};

class stream_load {
public:
    ~stream_load();
    stream_load(const stream_load&) = delete;
    stream_load& operator=(const stream_load&) = delete;

    /// Authenticates, checks INSERT privilege, the table, the label and the headers. A refusal
    /// is the result to send (status "Fail" or "Label Already Exists"; 401 for bad credentials).
    static std::variant<std::unique_ptr<stream_load>, stream_load_result> begin(storage::catalog& catalog,
                                                                                const storage::data_options& data,
                                                                                stream_load_request request);

    /// Parses and loads a piece of the body. A failure (a write error, a row outside every
    /// partition) ends the load: the result to send, with everything written removed.
    io::task<std::optional<stream_load_result>> feed(std::string_view bytes);
    /// The body ended: loads the rest, applies max_filter_ratio, commits or removes everything.
    io::task<stream_load_result> finish();
    /// The client went away: removes everything written.
    io::task<void> abort();

private:
    stream_load(storage::catalog& catalog, csv_format format, load_columns columns, double max_filter_ratio);
    /// Converts the buffered text rows and hands them to the writer.
    io::task<std::optional<std::string>> flush();
    io::task<stream_load_result> fail(std::string message);

    storage::catalog& _catalog;
    csv_reader _reader;
    load_columns _columns;
    double _max_filter_ratio;
    std::unique_ptr<storage::load_writer> _writer;
    std::vector<std::string_view> _fields;
    /// Text rows not yet converted: one STRING column per supplied column, appended a field at a time.
    std::vector<storage::column_vector> _pending;
    stream_load_result _result;
    std::chrono::steady_clock::time_point _started;
    std::chrono::steady_clock::duration _write_time{};
};

}  // namespace tv::sql
