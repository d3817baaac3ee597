{{- /*
storeops.name: the app.kubernetes.io/name of the operator's objects.
storeops.fullname: the name of every object, derived from the release so two
releases never collide (the ClusterRoles and their bindings are cluster-wide):
release "storeops" -> "storeops-operator", release "team-b" -> "team-b-operator".
*/ -}}
{{- define "storeops.name" -}}
{{- .Values.nameOverride | default "storeops-operator" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "storeops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "storeops.labels" -}}
app.kubernetes.io/name: {{ include "storeops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: storeops
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "storeops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "storeops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
