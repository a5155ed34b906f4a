using System.Net.Http.Headers;
using System.Text;
using PgWarden.Config;

namespace PgWarden.Ha.Safety;

/// <summary>What the members listed in /failsafe answered: all accepted, or who did not and why.</summary>
public sealed record FailsafeOutcome(bool AllAccepted, string Detail, int Members)
{
    public static FailsafeOutcome SingleNode { get; } = new(true, "no other member is listed in /failsafe", 0);
}

/// <summary>
/// The primary's side of failsafe mode (compat §5.8, §2.11): POST /failsafe to every other member listed in the
/// failsafe key, in parallel, 2 s per attempt and one retry; every member must answer 200.
/// </summary>
public sealed class FailsafeClient(HttpClient http, Credentials? auth)
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    public async Task<FailsafeOutcome> ConfirmAsync(IReadOnlyDictionary<string, string> members, string me, string body, CancellationToken ct)
    {
        var others = members.Where(kv => kv.Key != me).ToList();
        if (others.Count == 0) return FailsafeOutcome.SingleNode;
        var answers = await Task.WhenAll(others.Select(kv => PostAsync(kv.Key, kv.Value, body, ct)));
        var refused = answers.Where(a => a is not null).ToList();
        return refused.Count == 0
            ? new FailsafeOutcome(true, $"all of {string.Join(", ", others.Select(o => o.Key))} accepted", others.Count)
            : new FailsafeOutcome(false, string.Join("; ", refused), others.Count);
    }

    /// <summary>null when accepted, else "name: why".</summary>
    private async Task<string?> PostAsync(string name, string apiUrl, string body, CancellationToken ct)
    {
        string why = "not attempted";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                var uri = new Uri(apiUrl);
                using var request = new HttpRequestMessage(HttpMethod.Post, $"{uri.Scheme}://{uri.Authority}/failsafe")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                if (auth is not null)
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}")));
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(AttemptTimeout);
                using var response = await http.SendAsync(request, cts.Token);
                if ((int)response.StatusCode == 200) return null;
                var text = await response.Content.ReadAsStringAsync(cts.Token);
                why = $"HTTP {(int)response.StatusCode} {text.Trim()}";
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                why = $"no answer within {AttemptTimeout.TotalSeconds:0} s";
            }
            catch (Exception e) when (e is HttpRequestException or UriFormatException or IOException)
            {
                why = e.Message;
            }
        }
        return $"{name} ({apiUrl}): {why}";
    }
}
