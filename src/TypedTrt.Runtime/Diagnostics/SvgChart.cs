using System.Globalization;
using System.Net;
using System.Text;

namespace TypedTrt.Runtime.Diagnostics;

/// <summary>One series of a line chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Points">(x, y) points, plotted in the given order.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>Writes small, dependency-free SVG line charts (throughput vs streams).</summary>
public static class SvgChart
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    /// <summary>Renders a line chart with axes, ticks, labelled points and a legend.</summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="series">One or more series; x values are treated as categories when they are all integers (stream counts).</param>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var all = series.SelectMany(s => s.Points).ToArray();
        if (all.Length == 0)
            throw new ArgumentException("A chart needs at least one point.", nameof(series));
        if (all.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y)))
            throw new ArgumentException("Chart points must be finite numbers.", nameof(series));

        const double w = 640, h = 400, left = 80, right = 170, top = 50, bottom = 60;
        double plotW = w - left - right, plotH = h - top - bottom;
        double[] xs = all.Select(p => p.X).Distinct().Order().ToArray();
        double yMax = NiceCeiling(all.Max(p => p.Y));
        double X(double x) => xs.Length == 1 ? left + plotW / 2 : left + Array.IndexOf(xs, x) * plotW / (xs.Length - 1);
        double Y(double y) => top + plotH - (yMax <= 0 ? 0 : y / yMax * plotH);
        var c = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", c);

        var sb = new StringBuilder();
        sb.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(w)}\" height=\"{F(h)}\" viewBox=\"0 0 {F(w)} {F(h)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(c, $"  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(c, $"  <text x=\"{F(left + plotW / 2)}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        sb.Append(c, $"  <line x1=\"{F(left)}\" y1=\"{F(top + plotH)}\" x2=\"{F(left + plotW)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        sb.Append(c, $"  <line x1=\"{F(left)}\" y1=\"{F(top)}\" x2=\"{F(left)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double v = yMax * i / 4, y = Y(v);
            sb.Append(c, $"  <line x1=\"{F(left - 4)}\" y1=\"{F(y)}\" x2=\"{F(left + plotW)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>\n");
            sb.Append(c, $"  <text x=\"{F(left - 8)}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{F(v)}</text>\n");
        }

        foreach (double x in xs)
            sb.Append(c, $"  <text x=\"{F(X(x))}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\">{F(x)}</text>\n");
        sb.Append(c, $"  <text x=\"{F(left + plotW / 2)}\" y=\"{F(h - 15)}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append(c, $"  <text x=\"18\" y=\"{F(top + plotH / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {F(top + plotH / 2)})\">{Esc(yLabel)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string color = Colors[s % Colors.Length];
            var pts = series[s].Points;
            sb.Append(c, $"  <polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', pts.Select(p => F(X(p.X)) + "," + F(Y(p.Y))))}\"/>\n");
            foreach (var p in pts)
                sb.Append(c, $"  <circle cx=\"{F(X(p.X))}\" cy=\"{F(Y(p.Y))}\" r=\"3.5\" fill=\"{color}\"><title>{Esc(series[s].Name)}: {F(p.X)} → {F(p.Y)}</title></circle>\n");
            double ly = top + 10 + s * 20;
            sb.Append(c, $"  <line x1=\"{F(w - right + 15)}\" y1=\"{F(ly)}\" x2=\"{F(w - right + 35)}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            sb.Append(c, $"  <text x=\"{F(w - right + 40)}\" y=\"{F(ly + 4)}\">{Esc(series[s].Name)}</text>\n");
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    /// <summary>
    /// Renders a scatter chart on numeric axes (both from 0): every point as a dot with its label as a tooltip, the
    /// <paramref name="front"/> points joined by a line (e.g. a Pareto front), and one highlighted point.
    /// </summary>
    /// <param name="title">Chart title.</param>
    /// <param name="xLabel">X axis label.</param>
    /// <param name="yLabel">Y axis label.</param>
    /// <param name="points">All points with labels.</param>
    /// <param name="front">Points to join with a line, in x order (a subset of <paramref name="points"/>).</param>
    /// <param name="highlight">Index into <paramref name="points"/> to mark (e.g. the recommendation), or -1.</param>
    public static string ScatterChart(string title, string xLabel, string yLabel, IReadOnlyList<(double X, double Y, string Label)> points, IReadOnlyList<(double X, double Y)> front, int highlight = -1)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(front);
        if (points.Count == 0)
            throw new ArgumentException("A chart needs at least one point.", nameof(points));
        if (points.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y)))
            throw new ArgumentException("Chart points must be finite numbers.", nameof(points));
        const double w = 640, h = 400, left = 80, right = 170, top = 50, bottom = 60;
        double plotW = w - left - right, plotH = h - top - bottom;
        double xMax = NiceCeiling(points.Max(p => p.X)), yMax = NiceCeiling(points.Max(p => p.Y));
        double X(double x) => left + x / xMax * plotW;
        double Y(double y) => top + plotH - y / yMax * plotH;
        var c = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", c);
        var sb = new StringBuilder();
        sb.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(w)}\" height=\"{F(h)}\" viewBox=\"0 0 {F(w)} {F(h)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(c, $"  <text x=\"{F(left + plotW / 2)}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Esc(title)}</text>\n");
        sb.Append(c, $"  <line x1=\"{F(left)}\" y1=\"{F(top + plotH)}\" x2=\"{F(left + plotW)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        sb.Append(c, $"  <line x1=\"{F(left)}\" y1=\"{F(top)}\" x2=\"{F(left)}\" y2=\"{F(top + plotH)}\" stroke=\"black\"/>\n");
        for (int i = 0; i <= 4; i++)
        {
            double vy = yMax * i / 4, vx = xMax * i / 4;
            sb.Append(c, $"  <line x1=\"{F(left - 4)}\" y1=\"{F(Y(vy))}\" x2=\"{F(left + plotW)}\" y2=\"{F(Y(vy))}\" stroke=\"#ddd\"/>\n");
            sb.Append(c, $"  <text x=\"{F(left - 8)}\" y=\"{F(Y(vy) + 4)}\" text-anchor=\"end\">{F(vy)}</text>\n");
            sb.Append(c, $"  <text x=\"{F(X(vx))}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\">{F(vx)}</text>\n");
        }

        sb.Append(c, $"  <text x=\"{F(left + plotW / 2)}\" y=\"{F(h - 15)}\" text-anchor=\"middle\">{Esc(xLabel)}</text>\n");
        sb.Append(c, $"  <text x=\"18\" y=\"{F(top + plotH / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {F(top + plotH / 2)})\">{Esc(yLabel)}</text>\n");
        if (front.Count > 0)
            sb.Append(c, $"  <polyline fill=\"none\" stroke=\"{Colors[1]}\" stroke-width=\"2\" points=\"{string.Join(' ', front.Select(p => F(X(p.X)) + "," + F(Y(p.Y))))}\"/>\n");
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            string fill = i == highlight ? Colors[2] : Colors[0];
            sb.Append(c, $"  <circle cx=\"{F(X(p.X))}\" cy=\"{F(Y(p.Y))}\" r=\"{(i == highlight ? "6" : "3.5")}\" fill=\"{fill}\"><title>{Esc(p.Label)}: {F(p.X)}, {F(p.Y)}</title></circle>\n");
        }

        string[] legend = ["settings", "Pareto front", "recommended"];
        for (int s = 0; s < legend.Length; s++)
        {
            double ly = top + 10 + s * 20;
            sb.Append(c, $"  <circle cx=\"{F(w - right + 25)}\" cy=\"{F(ly)}\" r=\"4\" fill=\"{Colors[s]}\"/>\n");
            sb.Append(c, $"  <text x=\"{F(w - right + 40)}\" y=\"{F(ly + 4)}\">{legend[s]}</text>\n");
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Rounds up to 1, 2 or 5 × a power of ten, so axis ticks are readable.</summary>
    internal static double NiceCeiling(double v)
    {
        if (v <= 0)
            return 1;
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (double m in new[] { 1.0, 2.0, 2.5, 5.0, 10.0 })
        {
            if (m * p >= v)
                return m * p;
        }

        return 10 * p;
    }
}
