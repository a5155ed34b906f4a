using System.Net.Http.Headers;
using System.Text;
using PgWarden.Config;
using PgWarden.Dcs;

namespace PgWarden.Ctl;

/// <summary>Calls a member's REST API (its api_url from the member key), with ctl.authentication as basic auth.</summary>
public sealed class MemberApi(Credentials? auth) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static string BaseUrl(MemberData member)
    {
        ArgumentNullException.ThrowIfNull(member);
        var api = member.ApiUrl ?? throw new InvalidOperationException("the member key has no api_url");
        var uri = new Uri(api);
        return $"{uri.Scheme}://{uri.Authority}";
    }

    public async Task<(int Code, string Body)> SendAsync(HttpMethod method, MemberData member, string path, string? json, TimeSpan timeout, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, BaseUrl(member) + path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (auth is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}")));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        using var response = await _http.SendAsync(request, cts.Token);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cts.Token));
    }

    public void Dispose() => _http.Dispose();
}
