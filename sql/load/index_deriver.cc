// SPDX-License-Identifier: Apache-2.0
// Synchronous materialized view maintenance: the view's SELECT over a batch of base rows.
#include "sql/load/index_deriver.hh"

#include "io/task.hh"
#include "sql/expression/cast.hh"
#include "sql/parser/parser.hh"
#include "sql/query/query.hh"
#include "sql/query/query_source.hh"

#include <fmt/format.h>

namespace tv::sql {

namespace {

/// One batch, once: the base rows of one flush.
class one_batch_source final : public batch_source {
public:
    explicit one_batch_source(const storage::column_batch& rows) : _rows(rows) {}
    const std::vector<storage::column_desc>& schema() const override { return _rows.schema(); }
    io::task<sql_result<std::optional<storage::column_batch>>> next() override {
        if (_done) {
            co_return std::optional<storage::column_batch>{};
        }
        _done = true;
        co_return std::optional<storage::column_batch>(_rows);
    }

private:
    const storage::column_batch& _rows;
    bool _done = false;
};

/// Runs `t` to its end on this thread. Sources here are in memory, so nothing suspends; one
/// that did would be a programming error, reported rather than left hanging.
template <class T>
std::optional<T> run_inline(io::task<T> t) {
    auto handle = t.handle();
    handle.resume();
    if (!handle.done()) {
        return std::nullopt;
    }
    return handle.promise().take();
}

io::task<sql_result<storage::column_batch>> collect(batch_source& rows,
                                                    std::vector<storage::column_desc> target) {
    storage::column_batch out(target);
    for (;;) {
        auto next = co_await rows.next();
        if (!next) {
            co_return next.error();
        }
        auto& batch = *next;
        if (!batch) {
            break;
        }
        auto converted = cast_batch(std::move(*batch), target, true);
        if (!converted) {
            co_return converted.error();
        }
        auto& rows_in = converted->rows;
        if (out.num_rows() == 0) {
            out = std::move(rows_in);  // the usual case: the view's rows come as one batch
        } else {
            out.append_range(rows_in, 0, rows_in.num_rows());
        }
    }
    co_return out;
}

}  // namespace

storage::index_deriver make_index_deriver(const session& s) {
    return [session = s](const storage::materialized_index& index,
                         const storage::column_batch& base_rows) -> storage::storage_result<storage::column_batch> {
        // The load answers with the message; bad_definition keeps the error code it had.
        auto failed = [&](std::string why) {
            return storage::make_error(storage::storage_errc::bad_definition,
                                       fmt::format("materialized view {}: {}", index.name, why));
        };
        auto select = parse_stored_select(index.query_text);
        if (!select || !select->from) {
            return failed("its definition does not parse as a query");
        }
        const auto* ref = std::get_if<table_ref>(&*select->from);
        std::string source_name = ref != nullptr ? ref->alias.value_or(ref->name.name) : std::string{};
        auto plan = plan_select(*select, base_rows.schema(), source_name, session);
        if (!plan) {
            return failed(plan.error().message);
        }
        std::vector<storage::column_desc> target;
        for (const auto& c : index.columns) {
            target.push_back({c.name, c.type, c.nullable});
        }
        auto cursor = (*plan)->open(std::make_unique<one_batch_source>(base_rows));
        auto rows = run_inline(collect(*cursor, std::move(target)));
        if (!rows) {
            return failed("its query waited on I/O while deriving rows");
        }
        if (!*rows) {
            return failed(rows->error().message);
        }
        return std::move(**rows);
    };
}

}  // namespace tv::sql
