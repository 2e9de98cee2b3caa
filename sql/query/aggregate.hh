// SPDX-License-Identifier: Apache-2.0
// Hash aggregation: rows are assigned to groups by their GROUP BY key values, and each
// aggregate keeps one running state per group.
#pragma once

#include "sql/query/query_state.hh"

#include <memory>

namespace tv::sql {

class aggregator {
public:
    explicit aggregator(const plan_state& plan);
    ~aggregator();
    aggregator(const aggregator&) = delete;
    aggregator& operator=(const aggregator&) = delete;

    /// Folds source rows (WHERE already applied) into the groups.
    sql_result<void> add(const storage::column_batch& rows);
    /// One row per group, of plan.grouped_schema: the keys, then the aggregates. Without GROUP BY
    /// there is exactly one group, even for no input (COUNT(*) = 0, SUM = NULL).
    sql_result<storage::column_batch> finish();
    /// An estimate of what the groups and DISTINCT sets hold, for the query's memory limit.
    int64_t memory_bytes() const;

private:
    struct impl;
    std::unique_ptr<impl> _impl;
};

}  // namespace tv::sql
