// SPDX-License-Identifier: Apache-2.0
// TABLE(generate_series(start, end[, step])): a BIGINT NOT NULL column produced in batches of
// 65536, computed without overflow at the ends of the BIGINT range.
#include "sql/query/query_state.hh"

namespace tv::sql {

namespace {

class series_source final : public batch_source {
public:
    series_source(int64_t start, int64_t end, int64_t step) : _next(start), _step(step) {
        _schema.push_back({"generate_series", storage::column_type{storage::type_kind::bigint}, false});
        // How many values remain, in 128 bits so that the widest ranges count exactly.
        if (step > 0 && start <= end) {
            _remaining = (static_cast<__int128>(end) - start) / step + 1;
        } else if (step < 0 && start >= end) {
            _remaining = (static_cast<__int128>(start) - end) / -static_cast<__int128>(step) + 1;
        }
    }

    const std::vector<storage::column_desc>& schema() const override { return _schema; }

    io::task<sql_result<std::optional<storage::column_batch>>> next() override {
        if (_step == 0) {
            co_return make_error(errc::unknown, "generate_series step size cannot equal zero");
        }
        if (_remaining <= 0) {
            co_return std::optional<storage::column_batch>{};
        }
        auto n = static_cast<size_t>(std::min<__int128>(_remaining, batch_rows));
        std::vector<int64_t> values(n);
        // Unsigned arithmetic wraps, and every value it lands on is inside [start, end].
        const auto base = static_cast<uint64_t>(_next);
        const auto step = static_cast<uint64_t>(_step);
        for (size_t i = 0; i < n; ++i) {
            values[i] = static_cast<int64_t>(base + step * i);
        }
        _remaining -= static_cast<__int128>(n);
        _next = static_cast<int64_t>(base + step * n);
        std::vector<storage::column_vector> columns;
        columns.push_back(storage::column_vector::from_values<int64_t>(false, std::move(values), {}));
        co_return std::optional<storage::column_batch>(storage::column_batch(_schema, std::move(columns)));
    }

private:
    std::vector<storage::column_desc> _schema;
    int64_t _next;
    int64_t _step;
    __int128 _remaining = 0;
};

}  // namespace

std::unique_ptr<batch_source> make_generate_series(int64_t start, int64_t end, int64_t step) {
    return std::make_unique<series_source>(start, end, step);
}

}  // namespace tv::sql
