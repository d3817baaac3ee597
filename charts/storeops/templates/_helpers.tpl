{{- define "storeops.name" -}}storeops-operator{{- end }}

{{- define "storeops.labels" -}}
app.kubernetes.io/name: storeops-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: storeops
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "storeops.selectorLabels" -}}
app.kubernetes.io/name: storeops-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
