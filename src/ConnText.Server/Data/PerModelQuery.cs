using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ConnText.Server.Data;

/// <summary>
/// An EF compiled query (<see cref="EF.CompileAsyncQuery{TContext, TResult}(System.Linq.Expressions.Expression{Func{TContext, CancellationToken, TResult}})"/>),
/// compiled once per model. A compiled query remembers the model it was compiled for and, called with a context of
/// another model, compiles itself again in place, which is not safe while other calls run: with the SQLite and the
/// PostgreSQL model in one process (the test suite runs both side by side) a call could run the other provider's
/// SQL. One compiled delegate per model never switches.
/// </summary>
internal sealed class PerModelQuery<TDelegate>(Func<TDelegate> compile)
    where TDelegate : class
{
    private readonly ConditionalWeakTable<IModel, TDelegate> byModel = [];

    public TDelegate For(DbContext db) => byModel.GetValue(db.Model, _ => compile());
}
