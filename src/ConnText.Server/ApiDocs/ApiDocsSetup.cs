using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ConnText.Server.ApiDocs;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and the interactive reference at <c>/docs</c>.</summary>
internal static class ApiDocsSetup
{
    public const string BearerScheme = "Bearer";

    public static IServiceCollection AddApiDocs(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "ConnText API",
                    Version = "v1",
                    Description = "REST API of a ConnText server. Every error is an RFC 9457 problem-details object " +
                                  "whose stable `type` is listed in docs/errors.md.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "An OAuth2 access token or a personal access token.",
                };
                return Task.CompletedTask;
            });

            // Endpoints that require authorization carry the security requirement; anonymous ones do not.
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [],
                    });
                }

                // Any operation can fail unexpectedly; say what that looks like.
                operation.Responses ??= [];
                operation.Responses.TryAdd("500", new OpenApiResponse
                {
                    Description = "Unexpected error: a problem with type urn:conntext:problem:internal and a traceId.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
                    },
                });
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static void MapApiDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi("/openapi/{documentName}.json");
        endpoints.MapScalarApiReference("/docs", options =>
        {
            options.Title = "ConnText API";
            options.OpenApiRoutePattern = "/openapi/{documentName}.json";
            // Self-hosted and offline: no calls to Scalar's cloud (telemetry, AI agent, hosted fonts).
            options.HideDeveloperTools().DisableTelemetry().DisableAgent().DisableDefaultFonts();
            options.AddPreferredSecuritySchemes(BearerScheme);
        });
    }
}
