using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConnText.Benchmarks;

/// <summary>
/// Adds "ns/delivery" and "B/delivery" to a benchmark with a <c>Connections</c> parameter: the mean time and the
/// allocated bytes of one operation divided by the number of connections it delivers to.
/// </summary>
public class PerDeliveryColumns : ManualConfig
{
    public PerDeliveryColumns()
    {
        AddColumn(new PerDeliveryColumn("ns/delivery", (summary, benchmark) => summary[benchmark]?.ResultStatistics?.Mean));
        AddColumn(new PerDeliveryColumn("B/delivery",
            (summary, benchmark) => summary[benchmark]?.GcStats.GetBytesAllocatedPerOperation(benchmark) is { } bytes ? bytes : null));
    }

    private sealed class PerDeliveryColumn(string name, Func<Summary, BenchmarkCase, double?> perOperation) : IColumn
    {
        public string Id => $"{nameof(PerDeliveryColumn)}.{name}";

        public string ColumnName => name;

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => $"{name}: per operation divided by Connections";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var connections = benchmarkCase.Parameters["Connections"] is int n ? n : 1;
            return perOperation(summary, benchmarkCase) is { } value
                ? (value / connections).ToString("N1", CultureInfo.InvariantCulture)
                : "?";
        }

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
