//! Where a run's plans execute: here (DataFusion embedded), or on an Apache Ballista cluster.
//!
//! On Ballista the run is the same: each step is planned here, as the embedded engine plans it,
//! and the physical plan is sent to the cluster's scheduler, which splits it into stages at its
//! shuffles and has its executors run them. Plans carry what they read: files by path or bucket
//! URL (which the executors must reach: a shared folder, or the bucket configured on them) and
//! the rows of earlier steps and of database sources, kept in the plan itself. Builds without the
//! `ballista` feature run embedded only and refuse a cluster by name.

use datafusion::error::Result;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Ballista's scheduler port when an address names none.
const SCHEDULER_PORT: u16 = 50050;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// In this process.
    #[default]
    Embedded,
    /// A Ballista scheduler and executor inside this process (started with its first run): a
    /// way to try Ballista, and the test of runs on it.
    Standalone,
    /// The Ballista scheduler at this address (`http://host:port`).
    Ballista(String),
}

impl std::str::FromStr for Engine {
    type Err = String;

    /// `embedded` (or nothing), `standalone`, or a scheduler as `df://host[:port]`.
    fn from_str(text: &str) -> Result<Engine, String> {
        let text = text.trim();
        let engine = match text {
            "" | "embedded" => return Ok(Engine::Embedded),
            "standalone" => Engine::Standalone,
            _ => {
                let address = text.strip_prefix("df://").ok_or_else(|| {
                    format!("`{text}` names no engine: give `embedded`, `standalone` or a Ballista scheduler as df://HOST:PORT")
                })?;
                let url = url::Url::parse(&format!("http://{address}")).map_err(|e| format!("`{text}`: {e}"))?;
                let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{text}` names no host"))?;
                Engine::Ballista(format!("http://{host}:{}", url.port().unwrap_or(SCHEDULER_PORT)))
            }
        };
        match cfg!(feature = "ballista") {
            true => Ok(engine),
            false => Err(format!(
                "this MCMS was built without Ballista, so `{text}` cannot run pipelines: build it with \
                 `cargo build --release --features ballista` (docs/pipelines.md)"
            )),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Embedded => f.write_str("embedded"),
            Engine::Standalone => f.write_str("Ballista standalone"),
            Engine::Ballista(url) => write!(f, "Ballista at {url}"),
        }
    }
}

/// The session a run plans (and, embedded, executes) its steps in.
pub(crate) async fn context(engine: &Engine, config: SessionConfig) -> Result<SessionContext> {
    match engine {
        Engine::Embedded => Ok(SessionContext::new_with_config(config)),
        #[cfg(feature = "ballista")]
        other => cluster::context(other, config).await,
        #[cfg(not(feature = "ballista"))]
        other => Err(datafusion::error::DataFusionError::Configuration(format!(
            "this MCMS was built without Ballista and cannot run on {other}"
        ))),
    }
}

#[cfg(feature = "ballista")]
mod cluster {
    use super::Engine;
    use ballista_core::execution_plans::execute_physical_plan;
    use ballista_core::extension::SessionConfigExt;
    use datafusion::catalog::Session;
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::error::{DataFusionError, Result};
    use datafusion::execution::context::QueryPlanner;
    use datafusion::execution::runtime_env::RuntimeEnv;
    use datafusion::execution::session_state::SessionStateBuilder;
    use datafusion::execution::{SendableRecordBatchStream, TaskContext};
    use datafusion::logical_expr::LogicalPlan;
    use datafusion::physical_expr::EquivalenceProperties;
    use datafusion::physical_expr::PhysicalExpr;
    use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
    use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
    use datafusion::prelude::{SessionConfig, SessionContext};
    use datafusion_proto::protobuf::PhysicalPlanNode;
    use futures_util::{StreamExt, TryStreamExt};
    use std::sync::Arc;

    /// The in-process cluster: its scheduler's URL, and the runtime its executor shares with the
    /// runs (so the buckets a run registers are the executor's too).
    static STANDALONE: tokio::sync::OnceCell<(String, Arc<RuntimeEnv>)> = tokio::sync::OnceCell::const_new();

    pub(super) async fn context(engine: &Engine, config: SessionConfig) -> Result<SessionContext> {
        let (scheduler, runtime) = match engine {
            Engine::Standalone => STANDALONE.get_or_try_init(standalone).await?.clone(),
            Engine::Ballista(url) => (url.clone(), Arc::new(RuntimeEnv::default())),
            Engine::Embedded => return Ok(SessionContext::new_with_config(config)),
        };
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let planner = OnCluster { scheduler, session: format!("mcms-{}-{nanos}", std::process::id()) };
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config.upgrade_for_ballista())
            .with_runtime_env(runtime)
            .with_query_planner(Arc::new(planner))
            .build();
        Ok(SessionContext::new_with_state(state))
    }

    async fn standalone() -> Result<(String, Arc<RuntimeEnv>)> {
        use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
        let failed = |e: &dyn std::fmt::Display| DataFusionError::Configuration(format!("Ballista standalone: {e}"));
        let state =
            SessionStateBuilder::new().with_default_features().with_config(SessionConfig::new_with_ballista()).build();
        let address = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&state)
            .await
            .map_err(|e| failed(&e))?;
        let url = format!("http://localhost:{}", address.port());
        // The scheduler listens in a task of its own: it answers within moments.
        let mut tries = 0;
        let scheduler = loop {
            match SchedulerGrpcClient::connect(url.clone()).await {
                Ok(client) => break client,
                Err(e) if tries == 50 => return Err(failed(&e)),
                Err(_) => tries += 1,
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ballista_executor::new_standalone_executor_from_state(scheduler, cores, &state)
            .await
            .map_err(|e| failed(&e))?;
        Ok((url, state.runtime_env().clone()))
    }

    /// Plans here, runs there: the physical plan, as the embedded engine would run it, handed to
    /// the scheduler whole.
    #[derive(Debug)]
    struct OnCluster {
        scheduler: String,
        session: String,
    }

    #[async_trait::async_trait]
    impl QueryPlanner for OnCluster {
        async fn create_physical_plan(
            &self,
            logical: &LogicalPlan,
            state: &dyn Session,
        ) -> Result<Arc<dyn ExecutionPlan>> {
            let plan = DefaultPhysicalPlanner::default().create_physical_plan(logical, state).await?;
            let properties = PlanProperties::new(
                EquivalenceProperties::new(plan.schema()),
                Partitioning::UnknownPartitioning(1),
                EmissionType::Final,
                Boundedness::Bounded,
            );
            Ok(Arc::new(ClusterExec {
                plan,
                scheduler: self.scheduler.clone(),
                session: self.session.clone(),
                config: state.config().clone(),
                properties: Arc::new(properties),
            }))
        }
    }

    /// A plan that runs on the cluster; its rows come back as one stream.
    #[derive(Debug)]
    struct ClusterExec {
        plan: Arc<dyn ExecutionPlan>,
        scheduler: String,
        session: String,
        config: SessionConfig,
        properties: Arc<PlanProperties>,
    }

    impl DisplayAs for ClusterExec {
        fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "ClusterExec: scheduler={}", self.scheduler)
        }
    }

    impl ExecutionPlan for ClusterExec {
        fn name(&self) -> &str {
            "ClusterExec"
        }

        fn properties(&self) -> &Arc<PlanProperties> {
            &self.properties
        }

        fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
            Vec::new()
        }

        fn apply_expressions(
            &self,
            _: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
        ) -> Result<TreeNodeRecursion> {
            Ok(TreeNodeRecursion::Continue)
        }

        fn with_new_children(self: Arc<Self>, _: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
            Ok(self)
        }

        fn execute(&self, partition: usize, _: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
            if partition != 0 {
                return Err(DataFusionError::Internal(format!("ClusterExec has one partition, not {partition}")));
            }
            let (config, plan) = (self.config.clone(), self.plan.clone());
            let (scheduler, session) = (self.scheduler.clone(), self.session.clone());
            let submitted = async move {
                let codec = config.ballista_physical_extension_codec();
                let ballista = config.ballista_config();
                execute_physical_plan::<PhysicalPlanNode>(scheduler, &ballista, plan, codec.as_ref(), session, config)
                    .await
            };
            let rows = futures_util::stream::once(submitted).try_flatten();
            Ok(Box::pin(RecordBatchStreamAdapter::new(self.plan.schema(), rows.boxed())))
        }
    }
}
