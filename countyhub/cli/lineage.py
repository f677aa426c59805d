"""OpenLineage for countyhub's Airflow tasks: each task's lake tables (its countyhub:// assets) as datasets.

The OpenLineage provider turns only assets of the schemes a provider registers into datasets; countyhub's own
`countyhub://lake/<schema>/<table>` assets need this extractor. Turned on by
AIRFLOW__OPENLINEAGE__EXTRACTORS=countyhub.cli.lineage.LakeAssets (docker-compose.yml sets it). It lives in the
installed package, not in dags/: the workers load extractors before the DAGs folder is on their path.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.openlineage.extractors.base import BaseExtractor, OperatorLineage
from openlineage.client.event_v2 import Dataset

NAMESPACE = "countyhub://lake"


def lake_datasets(assets: Any) -> list[Dataset]:
    """`countyhub://lake/raw_cgj/cases` -> Dataset(countyhub://lake, raw_cgj.cases); other assets are not ours."""
    out = []
    for asset in assets or []:
        uri = getattr(asset, "uri", "")
        if uri.startswith(NAMESPACE + "/") and "/" in uri.removeprefix(NAMESPACE + "/"):  # tables, not schemas
            out.append(Dataset(namespace=NAMESPACE, name=uri.removeprefix(NAMESPACE + "/").replace("/", ".")))
    return out


class LakeAssets(BaseExtractor):
    """Inputs and outputs of every countyhub task (all are TaskFlow tasks) from its inlets and outlets."""

    @classmethod
    def get_operator_classnames(cls) -> list[str]:
        return ["_PythonDecoratedOperator"]

    def _execute_extraction(self) -> OperatorLineage | None:
        return OperatorLineage(inputs=lake_datasets(self.operator.inlets), outputs=lake_datasets(self.operator.outlets))
